import { cpSync, createReadStream, createWriteStream, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncryptStream, parseKeyFile, readBackupMetadata } from '@coffer/crypto';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { coffer, listJson, workspace } from './helpers.js';

type Item = Parameters<ReturnType<typeof pack>['entry']>[0] & { body?: string };

/**
 * A workspace whose one backup is replaced by an authentic backup of `items`: what anyone holding
 * the backup key, or only a write-only key (a compromised backup-only host), can make. The tar is
 * made with tar-stream, not Coffer's archiver, so it can hold anything.
 */
async function forged(items: Item[]): Promise<{ dir: string; id: string }> {
  template ??= (() => {
    const dir = workspace();
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    return { dir, id: listJson(dir)[0]!.id };
  })();
  const dir = workspace();
  cpSync(template.dir, dir, { recursive: true });
  const id = template.id;
  const file = join(dir, 'backups', 'coffer', 'chats', `${id}.age`);
  const key = parseKeyFile(readFileSync(join(dir, 'coffer.key'), 'utf8')).material;
  const { metadata } = await readBackupMetadata(createReadStream(file), key);
  const tar = pack();
  for (const { body, ...fields } of items) {
    const header = { mtime: new Date('2024-05-06T07:08:09Z'), ...fields };
    if (fields.type && fields.type !== 'file') tar.entry(header);
    else tar.entry(header, body ?? '');
  }
  tar.finalize();
  await pipeline(Readable.from(tar), createEncryptStream({ key, metadata }), createWriteStream(file));
  return { dir, id };
}
/** One backed-up workspace, copied for each forgery: a backup per test would cost seconds each. */
let template: { dir: string; id: string } | undefined;

/** Names as Coffer shows them in a message: quoted, and cut in the middle past 80 characters. */
const shown = (name: string) => JSON.stringify(name.length > 80 ? `${name.slice(0, 50)}…${name.slice(-20)}` : name);

const long = 'n'.repeat(300);
const deep = `${Array.from({ length: 21 }, (_, i) => `${i}`.padEnd(200, 'd')).join('/')}/f`;

/** [what, the entries, the one line both verify and restore print] */
const SHAPES: [string, Item[], string][] = [
  ['a file twice', [{ name: 'a.txt', body: 'first' }, { name: 'a.txt', body: 'second' }], 'the backup holds "a.txt" twice'],
  ['a folder twice', [{ name: 'docs', type: 'directory' }, { name: 'docs/', type: 'directory' }], 'the backup holds "docs/" twice'],
  ['a file and a folder with one name', [{ name: 'x', body: 'file' }, { name: 'x', type: 'directory' }], 'the backup holds "x" both as a file and as a folder'],
  ['a file inside a file', [{ name: 'x', body: 'file' }, { name: 'x/y', body: 'inside' }], 'the backup holds "x/y" inside "x", which is a file'],
  ['a file over a folder it filled first', [{ name: 'x/y', body: 'inside' }, { name: 'x', body: 'file' }], 'the backup holds "x" both as a folder and as a file'],
  ['a file inside a symlink', [{ name: 'l', type: 'symlink', linkname: '/tmp' }, { name: 'l/pwned', body: 'x' }], 'the backup holds "l/pwned" inside the symlink "l"'],
  ['a symlink inside a symlink', [{ name: 'l', type: 'symlink', linkname: '..' }, { name: 'l/m', type: 'symlink', linkname: '/etc' }], 'the backup holds "l/m" inside the symlink "l"'],
  ['a symlink over a folder filled first', [{ name: 'l/pwned', body: 'x' }, { name: 'l', type: 'symlink', linkname: '/tmp' }], 'the backup holds "l" both as a folder and as a symlink'],
  ['a symlink twice', [{ name: 'l', type: 'symlink', linkname: 'a' }, { name: 'l', type: 'symlink', linkname: 'b' }], 'the backup holds "l" twice'],
  ['a symlink over a file', [{ name: 's', body: 'x' }, { name: 's', type: 'symlink', linkname: '../pwned' }], 'the backup holds "s" both as a file and as a symlink'],
  ['a file named .', [{ name: '.', body: 'x' }], 'the backup holds a file named "." (the restore folder itself)'],
  ['a symlink named ./', [{ name: './', type: 'symlink', linkname: '/' }], 'the backup holds a symlink named "./" (the restore folder itself)'],
  ['a name longer than 255 bytes', [{ name: `ok/${long}`, body: 'x' }], `the backup holds ${shown(`ok/${long}`)}: one name in it is 300 bytes long, more than the 255 a file system allows`],
  ['a name of 128 characters but 256 bytes', [{ name: 'é'.repeat(128), body: 'x' }], `the backup holds ${shown('é'.repeat(128))}: one name in it is 256 bytes long, more than the 255 a file system allows`],
  ['a path longer than 4095 bytes', [{ name: deep, body: 'x' }], `the backup holds ${shown(deep)}: its path is 4222 bytes long, more than the 4095 a path may have`],
  ['a symlink with an empty target', [{ name: 'e', type: 'symlink', linkname: '' }], 'the backup holds the symlink "e" with an empty target'],
  ['a symlink target longer than 4095 bytes', [{ name: 't', type: 'symlink', linkname: 'x/'.repeat(2500) }], 'the backup holds the symlink "t" whose target is 5000 bytes long, more than the 4095 a link may hold'],
  ['a name outside the restore folder', [{ name: 'fine.txt', body: 'ok' }, { name: '../pwned.txt', body: 'escaped' }], 'the backup holds an entry that would land outside the restore folder: "../pwned.txt"'],
  ['a name with a line break', [{ name: 'a\nb', body: 'x' }, { name: 'a\nb', body: 'y' }], 'the backup holds "a\\nb" twice'],
];

describe('verify says OK only for what restore restores: each hostile shape fails both with one line, exit 1', () => {
  it.each(SHAPES)('%s', async (_what, items, message) => {
    const { dir, id } = await forged(items);
    const verify = coffer(['verify', '--config', 'coffer.yaml'], { cwd: dir });
    expect([verify.code, verify.stderr]).toEqual([1, `coffer: backup ${id} on disk failed verification: ${message}\n`]);
    expect(verify.stdout).toBe('');

    // Into a new folder, and with --force over a folder that has content: both are left as they were.
    const fresh = coffer(['restore', '--config', 'coffer.yaml', '--to', 'new'], { cwd: dir });
    expect([fresh.code, fresh.stderr]).toEqual([1, `coffer: ${message}\n`]);
    expect(existsSync(join(dir, 'new'))).toBe(false);
    mkdirSync(join(dir, 'out'));
    const forced = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out', '--force'], { cwd: dir });
    expect([forced.code, forced.stderr]).toEqual([1, `coffer: ${message}\n`]);
    expect(readdirSync(join(dir, 'out'))).toEqual([]);
    expect(readdirSync(dir).filter((n) => n.includes('coffer-restore'))).toEqual([]);
    expect(existsSync(join(dir, 'pwned.txt'))).toBe(false);
  });

  it('a backup of the same entries in an honest shape verifies and restores', async () => {
    const { dir } = await forged([
      { name: './', type: 'directory' },
      { name: 'x/y', body: 'inside' },
      { name: 'x', type: 'directory' },
      { name: 'l', type: 'symlink', linkname: 'x/y' },
      { name: `ok/${'n'.repeat(255)}`, body: 'x' },
      { name: 'é'.repeat(127), body: 'x' },
      { name: `${Array.from({ length: 19 }, (_, i) => `${i}`.padEnd(200, 'd')).join('/')}/f`, body: 'x' },
      { name: 'fifo', type: 'fifo' },
      { name: 'fifo', body: 'a file where a FIFO was skipped' },
    ]);
    const verify = coffer(['verify', '--config', 'coffer.yaml'], { cwd: dir });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/: OK, 9 archive entries, /);
    const restore = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir });
    expect(restore.code, restore.stderr).toBe(0);
    expect(readFileSync(join(dir, 'out', 'l'), 'utf8')).toBe('inside');
    expect(readFileSync(join(dir, 'out', 'fifo'), 'utf8')).toBe('a file where a FIFO was skipped');
  });

  it('a path that fits, but not under the restore folder’s own path, is refused by restore with the way out', async () => {
    // 4000 bytes verify (a path may have 4095); under a restore folder 100 bytes deep it would not fit.
    const name = `${Array.from({ length: 19 }, (_, i) => `${i}`.padEnd(200, 'd')).join('/')}/${'f'.repeat(181)}`;
    expect(Buffer.byteLength(name)).toBe(4000);
    const { dir } = await forged([{ name, body: 'x' }]);
    expect(coffer(['verify', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const to = join(dir, 'p'.repeat(100));
    const r = coffer(['restore', '--config', 'coffer.yaml', '--to', to], { cwd: dir });
    expect([r.code, r.stderr]).toEqual([1, `coffer: the backup holds ${shown(name)}: its path is 4000 bytes long, too long to restore under ${to} (a path may have 4095 bytes); restore into a folder with a shorter path\n`]);
    expect(existsSync(to)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes('coffer-restore'))).toEqual([]);
  });
});

describe('setuid and setgid bits: cleared unless --keep-special-bits', () => {
  const items: Item[] = [
    { name: 'bin', type: 'directory', mode: 0o755 },
    { name: 'bin/su', mode: 0o4755, body: '#!/bin/sh\nid\n' },
    { name: 'bin/sg', mode: 0o2755, body: '#!/bin/sh\nid\n' },
    { name: 'bin/both-empty', mode: 0o6755 },
    { name: 'team', type: 'directory', mode: 0o2775 },
    { name: 'shared', type: 'directory', mode: 0o1777 },
  ];
  const mode = (dir: string, name: string) => lstatSync(join(dir, 'out', name)).mode & 0o7777;

  it('a forged backup with setuid programs restores them without the bits, and with them only when asked', async () => {
    // CI runs as root, where a kept setuid bit makes a setuid-root program; as another user the
    // bits are cleared or kept the same way (the restore sets them itself, after writing).
    const { dir } = await forged(items);
    const umask = process.umask();
    const r = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: restore: cleared the setuid/setgid bits of 4 entries (pass --keep-special-bits to keep them), e.g. "bin/su"');
    expect(statSync(join(dir, 'out', 'bin/su')).uid).toBe(process.getuid!());
    expect({ su: mode(dir, 'bin/su'), sg: mode(dir, 'bin/sg'), empty: mode(dir, 'bin/both-empty'), team: mode(dir, 'team'), shared: mode(dir, 'shared') }).toEqual({
      su: 0o755 & ~umask,
      sg: 0o755 & ~umask,
      empty: 0o755 & ~umask,
      team: 0o775 & ~umask,
      shared: 0o1777 & ~umask, // the sticky bit is kept: it only restricts who may delete in a folder
    });

    const kept = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out', '--force', '--keep-special-bits'], { cwd: dir });
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stderr).not.toContain('cleared');
    expect({ su: mode(dir, 'bin/su'), sg: mode(dir, 'bin/sg'), empty: mode(dir, 'bin/both-empty'), team: mode(dir, 'team'), shared: mode(dir, 'shared') }).toEqual({
      su: 0o4755 & ~umask,
      sg: 0o2755 & ~umask,
      empty: 0o6755 & ~umask,
      team: 0o2775 & ~umask,
      shared: 0o1777 & ~umask,
    });
  });
});
