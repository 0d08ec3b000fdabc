import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { batchIoAddon } from '@coffer/batch-io';
import { silentLogger } from '../src/log.js';
import { countEntries, safeRelative, unpack } from '../src/archive/unpack.js';

type Item = Parameters<ReturnType<typeof pack>['entry']>[0] & { body?: Buffer };

/** A tar made with tar-stream (not our archiver), so that it can hold anything an attacker likes. */
async function* tarOf(items: Item[], padding = 0): AsyncIterable<Buffer> {
  const p = pack();
  const done = (async () => {
    for (const { body, ...header } of items) {
      await new Promise<void>((resolve, reject) => {
        const cb = (err?: Error | null) => (err ? reject(err) : resolve());
        if (body) p.entry(header, body, cb);
        else p.entry(header, cb);
      });
    }
    p.finalize();
  })();
  done.catch(() => {}); // a consumer that stops early tears the pack down; awaited below otherwise
  for await (const chunk of p) yield chunk as Buffer;
  await done;
  for (let left = padding; left > 0; left -= 1 << 20) yield Buffer.alloc(Math.min(left, 1 << 20));
}

function sandbox(): { outside: string; root: string } {
  const outside = mkdtempSync(join(tmpdir(), 'coffer-unpack-'));
  const root = join(outside, 'restore');
  mkdirSync(root);
  return { outside, root };
}

const mtime = new Date('2024-05-06T07:08:09Z');

describe('safeRelative', () => {
  it('accepts relative names and refuses absolute ones, .. and NUL', () => {
    expect(safeRelative('a/b.txt')).toBe('a/b.txt');
    expect(safeRelative('./a//b/')).toBe('a/b');
    for (const bad of ['/etc/passwd', '../x', 'a/../../x', 'a/..', 'a\0b']) expect(safeRelative(bad), bad).toBeNull();
  });
});

// Small files in batches (the addon), and one at a time where it is not built.
describe.each([
  ['batched writes', batchIoAddon],
  ['one write at a time', null],
])('unpack, %s', (mode, batchIo) => {
  it('runs the way it is named', () => {
    expect(batchIo !== null || mode !== 'batched writes', 'the batched writer is not built: run pnpm build').toBe(true);
  });

  it('restores files, folders, modes, times and symlinks, and reads padding after the archive', async () => {
    const { root } = sandbox();
    const big = randomBytes(3 * 1024 * 1024 + 5);
    const smalls = Array.from({ length: 300 }, (_, i) => randomBytes(i * 37));
    const items: Item[] = [
      { name: 'docs', type: 'directory', mode: 0o755, mtime },
      ...smalls.map((body, i) => ({ name: `docs/note-${i}.txt`, mode: 0o640, mtime, body })),
      { name: 'media/video.mp4', mode: 0o600, mtime, body: big },
      { name: 'locked', type: 'directory', mode: 0o555, mtime },
      { name: 'locked/inside.txt', mode: 0o444, mtime, body: Buffer.from('read-only') },
      { name: 'docs/latest', type: 'symlink', linkname: 'note-1.txt', mtime },
      { name: 'elsewhere', type: 'symlink', linkname: '/etc/hostname', mtime },
      { name: 'up', type: 'symlink', linkname: '../sibling', mtime },
      { name: 'fifo', type: 'fifo', mtime },
    ];
    const entries = await unpack(tarOf(items, 8 << 20), root, silentLogger, batchIo);
    expect(entries).toBe(items.length - 1); // the FIFO is reported and skipped
    for (const [i, body] of smalls.entries()) expect(readFileSync(join(root, `docs/note-${i}.txt`)).equals(body)).toBe(true);
    expect(readFileSync(join(root, 'media/video.mp4')).equals(big)).toBe(true);
    expect(statSync(join(root, 'docs/note-3.txt')).mode & 0o777).toBe(0o640);
    expect(statSync(join(root, 'locked')).mode & 0o777).toBe(0o555);
    expect(statSync(join(root, 'locked/inside.txt')).mode & 0o777).toBe(0o444);
    expect(statSync(join(root, 'docs/note-3.txt')).mtime).toEqual(mtime);
    expect(statSync(join(root, 'docs')).mtime).toEqual(mtime);
    // Symlinks come back as they were, even pointing outside: they are made last, never written through.
    expect(readlinkSync(join(root, 'docs/latest'))).toBe('note-1.txt');
    expect(readlinkSync(join(root, 'elsewhere'))).toBe('/etc/hostname');
    expect(readlinkSync(join(root, 'up'))).toBe('../sibling');
    expect(existsSync(join(root, 'fifo'))).toBe(false);
  });

  it('counts entries without writing anything', async () => {
    const items: Item[] = [{ name: 'a', type: 'directory' }, { name: 'a/b', body: Buffer.from('x') }, { name: 'c', type: 'symlink', linkname: 'a' }];
    expect(await countEntries(tarOf(items, 1 << 20))).toBe(3);
  });

  it('counting runs the checks a restore runs', async () => {
    const items: Item[] = [{ name: 'link', type: 'symlink', linkname: '..' }, { name: 'link/pwned', body: Buffer.from('x') }];
    await expect(countEntries(tarOf(items))).rejects.toMatchObject({ code: 'UNSAFE_ARCHIVE', message: 'the backup holds "link/pwned" inside the symlink "link"' });
  });

  const attacks: Array<[string, Item[]]> = [
    ['an absolute path', [{ name: '/tmp/coffer-pwned', body: Buffer.from('x') }]],
    ['a .. path', [{ name: '../pwned', body: Buffer.from('x') }]],
    ['a .. hidden in the middle', [{ name: 'a/../../pwned', body: Buffer.from('x') }]],
    ['a file under a symlink to outside', [{ name: 'link', type: 'symlink', linkname: '..' }, { name: 'link/pwned', body: Buffer.from('x') }]],
    ['a symlink under a symlink to outside', [{ name: 'link', type: 'symlink', linkname: '..' }, { name: 'link/pwned', type: 'symlink', linkname: '/etc/passwd' }]],
    ['a folder under a symlink to outside', [{ name: 'link', type: 'symlink', linkname: '..' }, { name: 'link/pwned', type: 'directory' }]],
    ['a symlink over a file', [{ name: 'same', body: Buffer.from('x') }, { name: 'same', type: 'symlink', linkname: '../pwned' }]],
  ];
  for (const [what, items] of attacks) {
    it(`refuses ${what}, and writes nothing outside the folder`, async () => {
      const { outside, root } = sandbox();
      await expect(unpack(tarOf(items), root, silentLogger, batchIo)).rejects.toMatchObject({ code: 'UNSAFE_ARCHIVE' });
      expect(readdirSync(outside)).toEqual(['restore']);
      expect(existsSync('/tmp/coffer-pwned')).toBe(false);
    });
  }

  it('never writes over an entry already restored: a repeated name fails the restore before it is written', async () => {
    const { root } = sandbox();
    const items: Item[] = [
      ...Array.from({ length: 100 }, (_, i) => ({ name: `f${i}`, body: Buffer.from(`first ${i}`) })),
      { name: 'f7', body: Buffer.from('second') },
    ];
    await expect(unpack(tarOf(items), root, silentLogger, batchIo)).rejects.toMatchObject({ code: 'UNSAFE_ARCHIVE', message: 'the backup holds "f7" twice' });
    expect(readFileSync(join(root, 'f7'), 'utf8')).toBe('first 7');
  });

  // What the structure check cannot see (names one on a case-insensitive file system, a full
  // disk) fails as one line naming the entry as the backup stores it, not the path written to.
  for (const [what, body] of [['small', Buffer.from('x')], ['large', randomBytes(2 << 20)]] as const) {
    it(`a ${what} file whose name the file system already holds fails naming the entry`, async () => {
      const { root } = sandbox();
      mkdirSync(join(root, 'docs'));
      writeFileSync(join(root, 'docs', 'Photo.JPG'), 'already here');
      const items: Item[] = [...Array.from({ length: 10 }, (_, i) => ({ name: `docs/f${i}`, body })), { name: './docs/Photo.JPG', body }];
      const err = await unpack(tarOf(items), root, silentLogger, batchIo).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'RESTORE_WRITE',
        message: 'cannot restore "./docs/Photo.JPG": another entry already has that name on this file system (names that differ only in case or Unicode form are one name on some)',
      });
      expect(readFileSync(join(root, 'docs', 'Photo.JPG'), 'utf8')).toBe('already here');
    });
  }

  it('clears setuid and setgid bits unless asked to keep them, and keeps the sticky bit', async () => {
    const items: Item[] = [
      { name: 'su', mode: 0o4755, body: Buffer.from('x') },
      { name: 'big-sg', mode: 0o2750, body: randomBytes(2 << 20) },
      { name: 'tmp', type: 'directory', mode: 0o1777 },
      { name: 'team', type: 'directory', mode: 0o2770 },
    ];
    const umask = process.umask();
    const modes = (root: string) => ['su', 'big-sg', 'tmp', 'team'].map((n) => statSync(join(root, n)).mode & 0o7777);
    const warnings: string[] = [];
    const log = { ...silentLogger, warn: (m: object | string) => void warnings.push(String(m)) };
    const cleared = sandbox();
    await unpack(tarOf(items), cleared.root, log, batchIo);
    expect(modes(cleared.root)).toEqual([0o755, 0o750, 0o1777, 0o770].map((m) => m & ~umask));
    expect(warnings).toEqual(['restore: cleared the setuid/setgid bits of 3 entries (pass --keep-special-bits to keep them), e.g. "su"']);
    const kept = sandbox();
    await unpack(tarOf(items), kept.root, silentLogger, batchIo, { keepSpecialBits: true });
    expect(modes(kept.root)).toEqual([0o4755, 0o2750, 0o1777, 0o2770].map((m) => m & ~umask));
  });

  it('a failing source fails the unpack, and nothing is written after it', async () => {
    const { root } = sandbox();
    async function* broken(): AsyncIterable<Buffer> {
      let n = 0;
      for await (const chunk of tarOf(Array.from({ length: 500 }, (_, i) => ({ name: `f${i}`, body: randomBytes(3000) })))) {
        yield chunk;
        if ((n += chunk.length) > 600_000) throw new Error('backup is corrupted or has been tampered with');
      }
    }
    await expect(unpack(broken(), root, silentLogger, batchIo)).rejects.toThrow('corrupted');
    const after = readdirSync(root).length;
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(root).length).toBe(after);
    expect(lstatSync(root).isDirectory()).toBe(true);
  });
});
