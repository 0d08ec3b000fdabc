import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchIoAddon } from '@coffer/batch-io';
import { AdaptiveIo } from './adaptive-io.js';
import { countBytes, scanSource, type ArchiveEntry, type ScanSink } from './scan.js';

const root = mkdtempSync(join(tmpdir(), 'coffer-scan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 'b', 'deep'), { recursive: true });
mkdirSync(join(root, 'a'));
writeFileSync(join(root, 'a', 'one.txt'), 'one', { mode: 0o600 });
writeFileSync(join(root, 'b', 'deep', 'two.bin'), Buffer.alloc(70_000, 2));
writeFileSync(join(root, 'b', 'skip.tmp'), 'excluded');
for (let i = 0; i < 600; i++) writeFileSync(join(root, 'b', `many-${String(i).padStart(3, '0')}`), String(i)); // several stat batches
symlinkSync('a/one.txt', join(root, 'link'));
execFileSync('mkfifo', [join(root, 'fifo')]);

/** What lstat says of each path, in the scan's order: depth first, names sorted. */
function expected(): Array<[string, string, number, number, number]> {
  const out: Array<[string, string, number, number, number]> = [];
  const walk = (rel: string) => {
    const names = readdirSync(join(root, rel)).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      if (r.endsWith('.tmp') || name === 'fifo') continue;
      const st = lstatSync(join(root, r));
      const type = st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'symlink';
      out.push([r, type, type === 'file' ? st.size : 0, st.mode & 0o7777, st.mtimeMs]);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

/** Everything a scan of `dir` hands its sink; `onEntry` runs before the scan goes on past an entry. */
async function scanAll(dir: string, batchIo: typeof batchIoAddon, onEntry: (entry: ArchiveEntry) => void | Promise<void> = () => {}) {
  const entries: ArchiveEntry[] = [];
  const skipped: string[] = [];
  const vanished: string[] = [];
  const unreadable: string[] = [];
  const sink: ScanSink = {
    entry: (entry) => {
      entries.push(entry);
      return onEntry(entry);
    },
    skipped: (rel) => void skipped.push(rel),
    vanished: (rel) => void vanished.push(rel),
    unreadable: (rel, code) => void unreadable.push(`${rel} ${code}`),
  };
  await scanSource(dir, ['**/*.tmp'], sink, new AdaptiveIo(true), batchIo);
  return { entries, skipped, vanished, unreadable };
}

describe.each([
  ['batched lstat', batchIoAddon],
  ['one lstat at a time', null],
])('scanSource, %s', (mode, batchIo) => {
  it('runs the way it is named', () => {
    expect(batchIo !== null || mode !== 'batched lstat', 'the batched lstat is not built: run pnpm build').toBe(true);
  });

  it('lists every entry as lstat sees it, depth first in name order, without excluded paths or special files', async () => {
    const { entries, skipped, vanished, unreadable } = await scanAll(root, batchIo);
    expect(entries.map((e) => [e.rel, e.type, e.size, e.mode, e.mtimeMs])).toEqual(expected());
    expect(skipped).toEqual(['fifo']);
    expect([vanished, unreadable]).toEqual([[], []]);
  });

  it('counts the bytes of the files it would archive', async () => {
    const sizes = expected().reduce((n, [, , size]) => n + size, 0);
    expect(sizes).toBe(3 + 70_000 + Array.from({ length: 600 }, (_, i) => String(i).length).reduce((a, b) => a + b, 0));
    expect(await countBytes(root, ['**/*.tmp'], new AbortController().signal, batchIo)).toBe(sizes);
  });

  it('stops counting once told to', async () => {
    await expect(countBytes(root, ['**/*.tmp'], AbortSignal.abort(new Error('backup over')), batchIo)).rejects.toThrow('backup over');
  });

  it('goes no further while its sink holds an entry back', async () => {
    let release!: () => void;
    let calls = 0;
    const scan = scanAll(root, batchIo, (entry) => {
      calls += 1;
      if (entry.rel === 'b/many-100') return new Promise<void>((r) => (release = r));
    });
    await new Promise((r) => setTimeout(r, 50));
    const order = expected().map(([rel]) => rel);
    expect(calls).toBe(order.indexOf('b/many-100') + 1);
    release();
    const { entries } = await scan;
    expect(entries.map((e) => e.rel)).toEqual(order);
  });

  it('leaves out a folder that vanishes or cannot be listed, reports it, and goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-scan-gone-'));
    for (const name of ['a-gone', 'b-loop', 'c-kept']) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'file'), name);
    }
    // Between the folder's lstat and its listing: one removed, one swapped for a symlink loop
    // (ELOOP: a folder root cannot be denied, and this is an error that is not "gone").
    const { entries, vanished, unreadable } = await scanAll(dir, batchIo, (entry) => {
      if (entry.rel === 'a-gone') rmSync(join(dir, 'a-gone'), { recursive: true });
      if (entry.rel === 'b-loop') {
        renameSync(join(dir, 'b-loop'), join(dir, 'b-moved'));
        symlinkSync('b-loop', join(dir, 'b-loop'));
      }
    });
    expect(entries.map((e) => e.rel)).toEqual(['a-gone', 'b-loop', 'c-kept', 'c-kept/file']);
    expect(vanished).toEqual(['a-gone']);
    expect(unreadable).toEqual(['b-loop ELOOP']);
    rmSync(dir, { recursive: true });
  });

  it('reaches the source through a symlink, and gives entries paths free of symlinks', async () => {
    const link = join(mkdtempSync(join(tmpdir(), 'coffer-scan-link-')), 'source');
    symlinkSync(root, link);
    const { entries } = await scanAll(link, batchIo);
    expect(entries.map((e) => e.rel)).toEqual(expected().map(([rel]) => rel));
    expect(entries.every((e) => e.path === join(realpathSync(root), e.rel))).toBe(true);
  });

  it('gives the children of a source of "/" paths such as "/etc"', async () => {
    const entries: ArchiveEntry[] = [];
    const ignore = () => {};
    await scanSource('/', ['*/*'], { entry: (e) => void entries.push(e), skipped: ignore, vanished: ignore, unreadable: ignore }, new AdaptiveIo(true), batchIo);
    expect(entries.map((e) => e.rel)).toContain('etc');
    expect(entries.filter((e) => e.path !== `/${e.rel}`)).toEqual([]);
  });

  it('fails with the errno of a source folder it cannot read', async () => {
    await expect(scanAll(join(root, 'no-such-folder'), batchIo)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('scanSource, batched lstat', () => {
  it('lists nothing through a folder swapped for a symlink to elsewhere, however deep below it', async () => {
    const [dir, elsewhere] = [mkdtempSync(join(tmpdir(), 'coffer-scan-swap-')), mkdtempSync(join(tmpdir(), 'coffer-scan-elsewhere-'))];
    mkdirSync(join(dir, 'album', 'trip'), { recursive: true });
    writeFileSync(join(dir, 'album', 'trip', 'photo.jpg'), 'inside');
    mkdirSync(join(elsewhere, 'trip'));
    writeFileSync(join(elsewhere, 'trip', 'secret.txt'), 'outside');
    // Once album/trip is statted, before it is listed: album/trip is then elsewhere/trip.
    const { entries } = await scanAll(dir, batchIoAddon, (entry) => {
      if (entry.rel !== 'album/trip') return;
      rmSync(join(dir, 'album'), { recursive: true });
      symlinkSync(elsewhere, join(dir, 'album'));
    });
    expect(entries.map((e) => e.rel)).toEqual(['album', 'album/trip']);
    rmSync(dir, { recursive: true });
    rmSync(elsewhere, { recursive: true });
  });
});
