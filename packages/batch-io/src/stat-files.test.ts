import { lstatSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchIoAddon } from './addon.js';
import { statFiles } from './stat-files.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'coffer-batch-stat-'))); // paths must be symlink-free
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('statFiles (one thread-pool job per folder batch)', () => {
  const addon = batchIoAddon!;

  it('says what lstat says of each entry: type and permission bits, size, mtime to the nanosecond', async () => {
    writeFileSync(join(dir, 'file'), Buffer.alloc(1234, 1), { mode: 0o640 });
    mkdirSync(join(dir, 'folder'));
    symlinkSync('/etc/passwd', join(dir, 'link')); // not followed
    writeFileSync(join(dir, 'empty'), '');
    const names = ['file', 'folder', 'link', 'empty'];
    const stats = await statFiles(addon, dir, names);
    stats.forEach((s, i) => {
      const st = lstatSync(join(dir, names[i]!));
      expect(s).toEqual({ ok: true, mode: st.mode, size: st.size, mtimeMs: st.mtimeMs });
    });
  });

  it('gives each failure its own result: a vanished entry, a folder that is gone', async () => {
    expect(await statFiles(addon, dir, ['file', 'no-such-entry'])).toMatchObject([{ ok: true }, { ok: false, code: 'ENOENT' }]);
    expect(await statFiles(addon, join(dir, 'gone'), ['a', 'b'])).toEqual([
      { ok: false, code: 'ENOENT' },
      { ok: false, code: 'ENOENT' },
    ]);
    // A folder swapped for a symlink is not followed: no folder there any more.
    symlinkSync(dir, join(dir, 'swapped'));
    expect(await statFiles(addon, join(dir, 'swapped'), ['file'])).toEqual([{ ok: false, code: 'ENOTDIR' }]);
  });

  it('follows no symlink above the folder either: entries of a folder reached through one are not listed', async () => {
    expect(addon.noSymlinksInPaths, 'openat2 with RESOLVE_NO_SYMLINKS (Linux 5.6+) is unavailable').toBe(true);
    mkdirSync(join(dir, 'outside', 'deep'), { recursive: true });
    writeFileSync(join(dir, 'outside', 'deep', 'secret'), 'not in the source');
    mkdirSync(join(dir, 'source'));
    symlinkSync(join(dir, 'outside'), join(dir, 'source', 'swapped')); // was a folder when listed
    expect(await statFiles(addon, join(dir, 'source', 'swapped', 'deep'), ['secret'])).toEqual([{ ok: false, code: 'ELOOP' }]);
    expect(await statFiles(addon, join(dir, 'outside', 'deep'), ['secret'])).toMatchObject([{ ok: true }]);
  });

  it('has nothing to do for no names, and refuses anything but single names at the boundary', async () => {
    expect(await statFiles(addon, dir, [])).toEqual([]);
    const results = new Float64Array(4);
    expect(() => addon.statFiles(dir, 'a/b', 1, results)).toThrow(TypeError); // a path, not a name
    expect(() => addon.statFiles(dir, '..', 1, results)).toThrow(TypeError);
    expect(() => addon.statFiles(dir, 'a\0b', 1, results)).toThrow(TypeError); // two names for one
    expect(() => addon.statFiles(dir, 'a', 1, new Float64Array(3))).toThrow(TypeError); // results too short
    expect(() => addon.statFiles('', 'a', 1, results)).toThrow(TypeError);
  });
});
