import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchIoAddon } from '@coffer/batch-io';
import { AdaptiveIo } from './adaptive-io.js';
import { scanSource } from './scan.js';

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

describe.each([
  ['batched lstat', batchIoAddon],
  ['one lstat at a time', null],
])('scanSource, %s', (mode, batchIo) => {
  it('runs the way it is named', () => {
    expect(batchIo !== null || mode !== 'batched lstat', 'the batched lstat is not built: run pnpm build').toBe(true);
  });

  it('lists every entry as lstat sees it, depth first in name order, without excluded paths or special files', async () => {
    const { entries, skipped } = await scanSource(root, ['**/*.tmp'], new AdaptiveIo(true), batchIo);
    const got = Array.from({ length: entries.length }, (_, i) => entries.at(i)!).map((e) => [e.rel, e.type, e.size, e.mode, e.mtimeMs]);
    expect(got).toEqual(expected());
    expect(skipped).toEqual(['fifo']);
    expect(entries.totalBytes).toBe(3 + 70_000 + Array.from({ length: 600 }, (_, i) => String(i).length).reduce((a, b) => a + b, 0));
  });

  it('fails with the errno of a folder it cannot read', async () => {
    await expect(scanSource(join(root, 'no-such-folder'), [], new AdaptiveIo(true), batchIo)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
