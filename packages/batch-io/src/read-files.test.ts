import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchIoAddon } from './addon.js';
import { NOT_A_FILE, readFiles } from './read-files.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'coffer-batch-read-'))); // paths must be symlink-free
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readFiles (one thread-pool job per batch)', () => {
  it('is built (the suite requires it; scripts/bootstrap.sh installs a C compiler)', () => {
    expect(batchIoAddon, 'build/Release/batch_io.node is missing: run pnpm build').not.toBeNull();
  });
  const addon = batchIoAddon!;

  it('reads each file whole into its buffer and reports the size and mtime lstat sees', async () => {
    const contents = [Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(70_000, 7), Buffer.from('last one')];
    const paths = contents.map((c, i) => join(dir, `f${i}`));
    contents.forEach((c, i) => writeFileSync(paths[i]!, c));
    const buffers = contents.map((c) => Buffer.alloc(c.length, 0xee));
    const results = await readFiles(addon, paths.map((path, i) => ({ path, buffer: buffers[i]! })));
    results.forEach((r, i) => {
      const st = lstatSync(paths[i]!);
      expect(r).toEqual({ ok: true, bytesRead: contents[i]!.length, size: st.size, mtimeMs: st.mtimeMs });
      expect(buffers[i]!.equals(contents[i]!)).toBe(true);
    });
  });

  it('reads files the page cache does not hold, whole or from the middle on, as it reads cached ones', async () => {
    // On the repository's disk: a tmpfs /tmp cannot drop its pages.
    const cold = mkdtempSync(fileURLToPath(new URL('../.cold-test-', import.meta.url)));
    try {
      // More files than one window of reads (32); each one dropped from the cache whole, or from
      // its third page on, so that reading it starts from the cache and then waits for the disk.
      const contents = Array.from({ length: 40 }, (_, i) => randomBytes(3 * 4096 + i * 1000));
      const paths = contents.map((c, i) => join(cold, `f${i}`));
      contents.forEach((c, i) => writeFileSync(paths[i]!, c));
      execFileSync('sync');
      paths.forEach((path, i) => execFileSync('dd', [`if=${path}`, 'iflag=nocache', 'bs=4096', `skip=${i % 2 ? 2 : 0}`, 'count=0', 'status=none']));
      const resident = (path: string) => Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', path]).toString().trim());
      paths.forEach((path, i) => {
        if (i % 2) expect(resident(path), path).toBeGreaterThan(0);
        expect(resident(path), path).toBeLessThan(i % 2 ? contents[i]!.length : 1);
      });
      const buffers = contents.map((c) => Buffer.alloc(c.length, 0xee));
      const results = await readFiles(addon, paths.map((path, i) => ({ path, buffer: buffers[i]! })));
      results.forEach((r, i) => {
        expect(r).toMatchObject({ ok: true, bytesRead: contents[i]!.length, size: contents[i]!.length });
        expect(buffers[i]!.equals(contents[i]!), paths[i]).toBe(true);
      });
    } finally {
      rmSync(cold, { recursive: true, force: true });
    }
  });

  it('zero-fills what a file no longer has, and reports the size it has now', async () => {
    const path = join(dir, 'shrunk');
    writeFileSync(path, Buffer.alloc(100, 1));
    truncateSync(path, 40);
    const buffer = Buffer.alloc(100, 0xee);
    const [r] = await readFiles(addon, [{ path, buffer }]);
    expect(r).toMatchObject({ ok: true, bytesRead: 40, size: 40 });
    expect(buffer.equals(Buffer.concat([Buffer.alloc(40, 1), Buffer.alloc(60)]))).toBe(true);
  });

  it('reads no more than its buffer of a file that grew, and reports the new size', async () => {
    const path = join(dir, 'grown');
    writeFileSync(path, Buffer.alloc(300, 2));
    const buffer = Buffer.alloc(100);
    const [r] = await readFiles(addon, [{ path, buffer }]);
    expect(r).toMatchObject({ ok: true, bytesRead: 100, size: 300 });
  });

  it('gives each failure its own result and reads the rest: vanished, symlink, FIFO, folder, unreadable', async () => {
    writeFileSync(join(dir, 'target'), 'secret');
    symlinkSync(join(dir, 'target'), join(dir, 'link'));
    execFileSync('mkfifo', [join(dir, 'fifo')]); // must not hang the thread pool
    writeFileSync(join(dir, 'locked'), 'no');
    chmodSync(join(dir, 'locked'), 0);
    writeFileSync(join(dir, 'fine'), 'fine');
    mkdirSync(join(dir, 'folder'));
    const names = ['gone', 'link', 'fifo', 'folder', 'locked', 'fine'];
    const buffers = names.map(() => Buffer.alloc(4, 0xee));
    const results = await readFiles(addon, names.map((n, i) => ({ path: join(dir, n), buffer: buffers[i]! })));
    const root = process.getuid?.() === 0; // root reads a mode-0 file anyway
    expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['ENOENT', 'ELOOP', NOT_A_FILE, 'EISDIR', root ? 'ok' : 'EACCES', 'ok']);
    expect(buffers[5]!.toString()).toBe('fine');
    expect(buffers[1]!.equals(Buffer.alloc(4, 0xee))).toBe(true); // nothing read through the link
  });

  it('follows no symlink anywhere in a path: a folder swapped for a link to elsewhere lets nothing in', async () => {
    expect(addon.noSymlinksInPaths, 'openat2 with RESOLVE_NO_SYMLINKS (Linux 5.6+) is unavailable').toBe(true);
    mkdirSync(join(dir, 'elsewhere'));
    writeFileSync(join(dir, 'elsewhere', 'photo.jpg'), 'not in the source');
    mkdirSync(join(dir, 'src'));
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'src', 'album')); // was a folder when scanned
    const buffer = Buffer.alloc(17, 0xee);
    expect(await readFiles(addon, [{ path: join(dir, 'src', 'album', 'photo.jpg'), buffer }])).toEqual([{ ok: false, code: 'ELOOP' }]);
    expect(buffer.equals(Buffer.alloc(17, 0xee))).toBe(true);
    const direct = await readFiles(addon, [{ path: join(dir, 'elsewhere', 'photo.jpg'), buffer }]);
    expect([direct[0]!.ok, buffer.toString()]).toEqual([true, 'not in the source']);
  });

  it('has nothing to do for an empty batch', async () => {
    expect(await readFiles(addon, [])).toEqual([]);
  });

  it('refuses malformed batches at the boundary', () => {
    const b = [Buffer.alloc(1)];
    expect(() => addon.readFiles('a\0b', b, new Float64Array(4))).toThrow(TypeError); // two paths, one buffer
    expect(() => addon.readFiles('a', b, new Float64Array(3))).toThrow(TypeError); // results too short
    expect(() => addon.readFiles('', [], new Float64Array(0))).toThrow(TypeError); // empty batch, which readFiles never queues
    expect(() => addon.readFiles('a\0', [Buffer.alloc(1), Buffer.alloc(1)], new Float64Array(8))).toThrow(TypeError); // empty path
    expect(() => addon.readFiles('a', [new Uint16Array(1) as unknown as Uint8Array], new Float64Array(4))).toThrow(TypeError);
  });
});
