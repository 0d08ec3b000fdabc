import { futimesSync, lstatSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchIoAddon } from './addon.js';
import { writeFiles } from './write-files.js';

const dir = mkdtempSync(join(tmpdir(), 'coffer-batch-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFiles (one thread-pool job per batch)', () => {
  const addon = batchIoAddon!;

  it('creates each file with its bytes, mode and mtime, to the microsecond as fs.futimes sets it', async () => {
    const mtimes = [new Date('2024-02-29T12:34:56.789Z'), new Date(1_000_000_000_123), new Date(-1500), new Date(0)];
    const files = mtimes.map((mtime, i) => ({ path: join(dir, `w${i}`), data: Buffer.alloc(i * 40_000, i), mode: [0o600, 0o644, 0o755, 0o400][i]!, mtime }));
    await writeFiles(addon, files);
    for (const [i, f] of files.entries()) {
      const st = lstatSync(f.path, { bigint: true }); // before reading it changes the atime
      expect(Number(st.mode & 0o7777n)).toBe(f.mode & ~process.umask());
      // Exactly the Date's time (whole milliseconds): no error from the double below the microsecond.
      const exact = BigInt(f.mtime.getTime()) * 1_000_000n;
      expect([st.mtimeNs, st.atimeNs]).toEqual([exact, exact]);
      // The reference: the same time set through Node on a file of its own. Node 20's libuv (1.46)
      // truncates to the microsecond as the addon does; Node 24's (1.52) keeps the double's error
      // below it (…789000034 ns for …789 ms), so the two agree to the microsecond.
      const ref = join(dir, `ref${i}`);
      const fd = openSync(ref, 'w');
      futimesSync(fd, f.mtime, f.mtime);
      closeSync(fd);
      const want = lstatSync(ref, { bigint: true });
      for (const [got, node] of [[st.mtimeNs, want.mtimeNs], [st.atimeNs, want.atimeNs]] as const) {
        expect(Math.abs(Number(got - node))).toBeLessThan(1000);
      }
      expect(readFileSync(f.path).equals(f.data)).toBe(true);
    }
  });

  it('never writes into an existing file or through a symlink, and stops at the first failure', async () => {
    writeFileSync(join(dir, 'exists'), 'original');
    writeFileSync(join(dir, 'elsewhere'), 'untouched');
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'link'));
    const file = (name: string) => ({ path: join(dir, name), data: Buffer.from('new'), mode: 0o644, mtime: new Date() });
    await expect(writeFiles(addon, [file('before'), file('exists'), file('after')])).rejects.toMatchObject({
      code: 'EEXIST',
      syscall: 'open',
      path: join(dir, 'exists'),
      message: expect.stringContaining('EEXIST'),
    });
    expect(readFileSync(join(dir, 'before'), 'utf8')).toBe('new');
    expect(readFileSync(join(dir, 'exists'), 'utf8')).toBe('original');
    expect(existsSync(join(dir, 'after'))).toBe(false);
    await expect(writeFiles(addon, [file('link')])).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(join(dir, 'elsewhere'), 'utf8')).toBe('untouched');
    await expect(writeFiles(addon, [file('no-such-folder/x')])).rejects.toMatchObject({ code: 'ENOENT', syscall: 'open' });
  });

  it('refuses malformed batches at the boundary', () => {
    const b = [Buffer.alloc(1)];
    expect(() => addon.writeFiles('a', b, new Float64Array(2), new Float64Array(2))).toThrow(TypeError); // results too short
    expect(() => addon.writeFiles('a', b, new Float64Array(1), new Float64Array(3))).toThrow(TypeError); // meta too short
    expect(() => addon.writeFiles('a', b, Float64Array.of(0o10000, 0), new Float64Array(3))).toThrow(RangeError); // not a mode
    expect(() => addon.writeFiles('a', b, Float64Array.of(0o644, Number.NaN), new Float64Array(3))).toThrow(RangeError);
    expect(() => addon.writeFiles('a\0b', b, new Float64Array(2), new Float64Array(3))).toThrow(TypeError);
  });
});
