import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deriveKeyMaterial, encodeIdentity, padme, parseKeyFile, type KeyMaterial } from '@coffer/crypto';
import { minimalPath, tarStream, writeChunkedBackup } from './emergency-kit-fixture.js';
import { coffer, expectedTree, listJson, snapshot, workspace } from './helpers.js';

const bin = minimalPath();
afterAll(() => rmSync(bin, { recursive: true, force: true }));

interface Kit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the kit's restore.sh under dash with only `bin` on PATH and no other environment: no node. */
function kitRestore(kit: string, args: string[], cwd: string): Kit {
  const r = spawnSync(join(bin, 'sh'), [join(kit, 'restore.sh'), ...args], { cwd, env: { PATH: bin }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function makeKit(dir: string, out = 'kit'): string {
  const r = coffer(['key', 'emergency-kit', '--config', 'coffer.yaml', '--out', out], { cwd: dir });
  expect(r.stderr).toContain('Keep it offline, beside the key');
  expect(r.code).toBe(0);
  return join(dir, out);
}

function fullKey(dir: string): KeyMaterial {
  const key = parseKeyFile(readFileSync(join(dir, 'coffer.key'), 'utf8'));
  if (key.kind !== 'full') throw new Error('expected a full key');
  return key.material;
}

/** The failure contract: non-zero, one line on stderr that matches, no target, no leftovers. */
function expectRefused(r: Kit, message: RegExp, target: string, options: { targetExisted?: boolean } = {}): void {
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^restore\.sh: /);
  if (!options.targetExisted) expect(existsSync(target)).toBe(false);
  const parent = dirname(target);
  expect(readdirSync(parent).filter((n) => n.includes('.partial-'))).toEqual([]);
}

/** A tree for chunked fixtures: small files, files spanning several chunks, a folder, a symlink. */
function fixtureTree(root: string, seed: number): void {
  mkdirSync(join(root, 'Media', 'Video'), { recursive: true });
  writeFileSync(join(root, 'msgstore.db'), randomBytes(700_000));
  writeFileSync(join(root, 'Media', 'Video', 'VID-0.mp4'), randomBytes(1_600_000));
  writeFileSync(join(root, 'Media', 'note.txt'), `day ${seed}\n`);
  writeFileSync(join(root, 'empty'), '');
  symlinkSync('msgstore.db', join(root, 'latest-db'));
  for (const path of ['msgstore.db', 'Media/Video/VID-0.mp4', 'Media/note.txt', 'empty']) utimesSync(join(root, path), 1_700_000_000 + seed, 1_700_000_000 + seed);
}

describe('emergency kit: restore.sh with only sh (dash), age, tar and coreutils', () => {
  it('runs with no node on PATH, and restore.sh is POSIX sh that dash parses', () => {
    const noNode = spawnSync(join(bin, 'sh'), ['-c', 'command -v node'], { env: { PATH: bin } });
    expect(noNode.status).not.toBe(0);
    const dir = workspace();
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const kit = makeKit(dir);
    expect(spawnSync('dash', ['-n', join(kit, 'restore.sh')]).status).toBe(0);
    // shellcheck in POSIX sh mode (bootstrap installs it): a missing one fails here, never skips.
    const lint = spawnSync('shellcheck', ['-s', 'sh', join(kit, 'restore.sh')], { encoding: 'utf8' });
    expect(lint.error).toBeUndefined();
    expect(lint.stdout).toBe('');
    expect(lint.status).toBe(0);
    const script = readFileSync(join(kit, 'restore.sh'), 'utf8');
    // Not a line of bash: no [[ ]], no arrays, no `local`, no pipefail, no $'…', no `function`.
    for (const bashism of [/\[\[/, /^\s*local\s/m, /pipefail/, /\$'/, /^\s*function\s/m, /\bdeclare\b/]) expect(script).not.toMatch(bashism);
  });

  it('format 1: restores real `coffer backup`s byte-identical, the newest or a named one, gzip sources too', () => {
    const dir = workspace({ retention: 'retention: { keepLast: 5 }' });
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const first = expectedTree(dir);
    writeFileSync(join(dir, 'chat', 'msgstore.db'), randomBytes(123_457));
    writeFileSync(join(dir, 'chat', 'Media', 'Images', 'IMG-9.jpg'), randomBytes(50_000));
    // Backup ids carry the time to the second: the next backup must not share the first one's.
    spawnSync('sleep', ['1.1']);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const second = expectedTree(dir);
    const ids = listJson(dir).map((b) => b.id).sort();
    expect(ids).toHaveLength(2);
    const kit = makeKit(dir);

    const newest = kitRestore(kit, ['backups', 'chats', 'newest'], dir);
    expect(newest.stderr).toBe('');
    expect(newest.code).toBe(0);
    expect(newest.stdout).toContain(`restored backup ${ids[1]} of chats (format 1)`);
    expect(snapshot(join(dir, 'newest'))).toEqual(second);

    mkdirSync(join(dir, 'named'));
    const named = kitRestore(kit, ['backups', 'chats', 'named', ids[0]!], dir);
    expect(named.code).toBe(0);
    expect(snapshot(join(dir, 'named'))).toEqual(first);
    expect(first).not.toEqual(second);

    // gzip: the tar is compressed, then padded with zeros; restore.sh sees 1f 8b and gunzips.
    const config = readFileSync(join(dir, 'coffer.yaml'), 'utf8').replace('    exclude: ["**/*.tmp"]', '    exclude: ["**/*.tmp"]\n    compression: gzip');
    writeFileSync(join(dir, 'coffer.yaml'), config);
    spawnSync('sleep', ['1.1']);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const gz = listJson(dir).map((b) => b.id).sort().at(-1)!;
    const object = readFileSync(join(dir, 'backups', 'coffer', 'chats', `${gz}.age`));
    const plain = spawnSync('age', ['-d', '-i', join(kit, 'identity.txt')], { input: object });
    expect([...plain.stdout.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    const gzipped = kitRestore(kit, ['backups', 'chats', 'gz'], dir);
    expect(gzipped.code).toBe(0);
    expect(gzipped.stdout).toContain(`restored backup ${gz} of chats (format 1)`);
    expect(snapshot(join(dir, 'gz'))).toEqual(second);
  });

  it('format 2: restores chunked backups made by `coffer backup`, the newest or a named one', () => {
    const dir = workspace({
      destinations: ['  - { name: disk, type: local, path: ./backups, format: chunked, chunker: { minKiB: 16, avgKiB: 64, maxKiB: 256 } }'],
      retention: 'retention: { keepLast: 5 }',
    });
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const first = expectedTree(dir);
    writeFileSync(join(dir, 'chat', 'msgstore.db'), randomBytes(123_457));
    spawnSync('sleep', ['1.1']);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const second = expectedTree(dir);
    const ids = listJson(dir).map((b) => b.id).sort();
    expect(ids).toHaveLength(2);
    const kit = makeKit(dir);
    const newest = kitRestore(kit, ['backups', 'chats', 'newest'], dir);
    expect(newest.stderr).toBe('');
    expect(newest.code).toBe(0);
    expect(newest.stdout).toContain(`restored backup ${ids[1]} of chats (format 2)`);
    expect(snapshot(join(dir, 'newest'))).toEqual(second);
    const named = kitRestore(kit, ['backups', 'chats', 'named', ids[0]!], dir);
    expect(named.code, named.stderr).toBe(0);
    expect(snapshot(join(dir, 'named'))).toEqual(first);
  });

  it('format 2: restores chunked backups built per SPEC §9–§12, the newest across both formats or a named one', async () => {
    const dir = workspace({ retention: 'retention: { keepLast: 5 }' });
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const [single] = listJson(dir);
    const key = fullKey(dir);
    const dest = join(dir, 'backups');
    const trees = [join(dir, 'day1'), join(dir, 'day2')];
    fixtureTree(trees[0]!, 1);
    fixtureTree(trees[1]!, 2);
    writeFileSync(join(trees[1]!, 'msgstore.db'), randomBytes(900_001));
    utimesSync(join(trees[1]!, 'msgstore.db'), 1_700_000_000, 1_700_000_000);
    // Cuts at arbitrary offsets, some inside tar headers; the large files span several chunks.
    const cuts = [1, 511, 300_000, 700_123, 1_000_000, 1_600_000, 2_000_000];
    const older = await writeChunkedBackup(dest, key, { source: 'chats', backupId: '20200101T000000Z-0a1b2c3d', createdAt: '2020-01-01T00:00:00.000Z', generation: 1 }, tarStream(trees[0]!), cuts);
    const newer = await writeChunkedBackup(dest, key, { source: 'chats', backupId: '20991231T235959Z-4e5f6a7b', createdAt: '2099-12-31T23:59:59.000Z', generation: 3 }, tarStream(trees[1]!), cuts);
    expect(older.chunks.length).toBe(cuts.length + 1);
    // Another source in the same destination, gzip-compressed, chunked: it must be told apart.
    await writeChunkedBackup(dest, key, { source: 'photos', backupId: '20991231T235959Z-00000000', createdAt: '2099-12-31T23:59:59.000Z', generation: 1 }, tarStream(trees[0]!, { gzip: true }), [1000, 5000]);
    const kit = makeKit(dir);

    const newest = kitRestore(kit, ['backups', 'chats', 'newest'], dir);
    expect(newest.stderr).toBe('');
    expect(newest.code).toBe(0);
    expect(newest.stdout).toContain(`restored backup ${newer.backupId} of chats (format 2) (${cuts.length + 1} chunks`);
    expect(snapshot(join(dir, 'newest'))).toEqual(snapshot(trees[1]!));

    const named = kitRestore(kit, ['backups', 'chats', 'named', older.backupId], dir);
    expect(named.code).toBe(0);
    expect(snapshot(join(dir, 'named'))).toEqual(snapshot(trees[0]!));

    // The single-file backup made by the CLI is still there, older than the newest chunked one.
    const one = kitRestore(kit, ['backups', 'chats', 'single', single!.id], dir);
    expect(one.stdout).toContain('(format 1)');
    expect(snapshot(join(dir, 'single'))).toEqual(expectedTree(dir));

    const photos = kitRestore(kit, ['backups', 'photos', 'photos'], dir);
    expect(photos.stderr).toBe('');
    expect(photos.stdout).toContain('restored backup 20991231T235959Z-00000000 of photos (format 2)');
    expect(snapshot(join(dir, 'photos'))).toEqual(snapshot(trees[0]!));

    // A Drive copy made by rclone: flat files whose names hold U+FF0F instead of "/".
    const flat = join(dir, 'drive-copy');
    mkdirSync(flat);
    const walk = (folder: string, rel: string) => {
      for (const name of readdirSync(folder)) {
        const path = join(folder, name);
        if (statSync(path).isDirectory()) walk(path, `${rel}${name}/`);
        else cpSync(path, join(flat, `${rel}${name}`.replaceAll('/', '\uff0f')));
      }
    };
    walk(join(dest, 'coffer'), 'coffer/');
    const drive = kitRestore(kit, ['drive-copy', 'chats', 'from-drive'], dir);
    expect(drive.stderr).toBe('');
    expect(snapshot(join(dir, 'from-drive'))).toEqual(snapshot(trees[1]!));
    const driveSingle = kitRestore(kit, ['drive-copy', 'chats', 'from-drive-1', single!.id], dir);
    expect(driveSingle.stdout).toContain('(format 1)');
    expect(snapshot(join(dir, 'from-drive-1'))).toEqual(expectedTree(dir));
    expect(readdirSync(dir).filter((n) => n.includes('.partial-'))).toEqual([]);
  });

  it('refuses with one clear line and leaves nothing behind: swapped chunk, missing chunk, wrong identity, unknown source, hostile archive, non-empty target', async () => {
    const dir = workspace();
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const key = fullKey(dir);
    const tree = join(dir, 'tree');
    fixtureTree(tree, 1);
    // Chunks 2 and 3 have the same length, so the same padded size: swapping them is caught
    // only by the manifest's SHA-256, after chunk 1's files were already extracted.
    const cuts = [600_000, 1_000_000, 1_400_000];
    const meta = { source: 'chats', backupId: '20261204T120000Z-aaaaaaaa', createdAt: '2026-12-04T12:00:00.000Z', generation: 1 };
    const kit = makeKit(dir);
    const fresh = async (name: string) => {
      rmSync(join(dir, name), { recursive: true, force: true });
      return writeChunkedBackup(join(dir, name), key, meta, tarStream(tree), cuts);
    };
    const control = await fresh('control');
    expect(kitRestore(kit, ['control', 'chats', 'ok'], dir).code).toBe(0);
    expect(snapshot(join(dir, 'ok'))).toEqual(snapshot(tree));

    const swapped = await fresh('swapped');
    const [, second, third] = swapped.chunks;
    expect(second!.length).toBe(third!.length);
    writeFileSync(second!.path, readFileSync(third!.path));
    expectRefused(kitRestore(kit, ['swapped', 'chats', 'out'], dir), /chunk 2 of 4 \([0-9a-f]{64}\) does not match the manifest's SHA-256/, join(dir, 'out'));

    const resized = await fresh('resized');
    writeFileSync(resized.chunks[1]!.path, readFileSync(resized.chunks[0]!.path));
    expectRefused(kitRestore(kit, ['resized', 'chats', 'out'], dir), /chunk 2 of 4 .* has the wrong size/, join(dir, 'out'));

    const missing = await fresh('missing');
    rmSync(missing.chunks[3]!.path);
    expectRefused(kitRestore(kit, ['missing', 'chats', 'out'], dir), /chunk 4 of 4 \([0-9a-f]{64}\) is missing/, join(dir, 'out'));

    // Another key's identity, bare (no key-id comment): age itself refuses the manifest.
    const stranger = join(dir, 'stranger-kit');
    mkdirSync(stranger);
    cpSync(join(kit, 'restore.sh'), join(stranger, 'restore.sh'));
    writeFileSync(join(stranger, 'identity.txt'), `${encodeIdentity(deriveKeyMaterial(randomBytes(32)).identity)}\n`, { mode: 0o600 });
    expectRefused(kitRestore(stranger, ['control', 'chats', 'out'], dir), /cannot decrypt manifest .*: no identity matched any of the recipients/, join(dir, 'out'));
    // The same script and a format 1 backup.
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expectRefused(kitRestore(stranger, ['backups', 'chats', 'out'], dir), /cannot decrypt .*\.age: no identity matched any of the recipients/, join(dir, 'out'));
    // Another key's kit (which knows its key id) finds no backup of its own.
    const other = workspace();
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: other }).code).toBe(0);
    const otherKit = makeKit(other);
    expectRefused(kitRestore(otherKit, [join(dir, 'control'), 'chats', join(dir, 'out')], dir), /no backup of source 'chats' made with key [0-9a-f]{16} in /, join(dir, 'out'));

    expectRefused(kitRestore(kit, ['control', 'nope', 'out'], dir), /no backup of source 'nope' made with key [0-9a-f]{16}/, join(dir, 'out'));
    expectRefused(kitRestore(kit, ['control', 'chats', 'out', '20991231T000000Z-ffffffff'], dir), /no backup '20991231T000000Z-ffffffff' of source 'chats'/, join(dir, 'out'));

    // A hostile archive (as a holder of the public recipient could make): a symlink out of the
    // target, then a file through it, then a `../` name. tar refuses; nothing lands outside.
    const outside = join(dir, 'outside');
    const hostile = join(dir, 'hostile-src');
    mkdirSync(outside);
    mkdirSync(join(hostile, 'evil'), { recursive: true });
    mkdirSync(join(hostile, 'inner'));
    symlinkSync(outside, join(hostile, 'link'));
    writeFileSync(join(hostile, 'evil', 'file'), 'pwned');
    writeFileSync(join(dir, 'escape.txt'), 'pwned');
    const tarFile = join(dir, 'hostile.tar');
    const tarRun = (args: string[]) => expect(spawnSync('tar', args, { cwd: join(hostile, 'inner') }).status).toBe(0);
    tarRun(['-cf', tarFile, '-C', hostile, 'link']);
    rmSync(join(hostile, 'link'));
    symlinkSync('evil', join(hostile, 'link'));
    tarRun(['-rf', tarFile, '-C', hostile, 'link/file']);
    tarRun(['-rPf', tarFile, '../../escape.txt']);
    rmSync(join(dir, 'escape.txt'));
    const stream = readFileSync(tarFile);
    expect(spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).stdout.split('\n')).toEqual(['link', 'link/file', '../../escape.txt', '']);
    await writeChunkedBackup(join(dir, 'hostile'), key, meta, Buffer.concat([stream, Buffer.alloc(padme(stream.length) - stream.length)]), [700]);
    expectRefused(kitRestore(kit, ['hostile', 'chats', 'out'], dir), /backup 20261204T120000Z-aaaaaaaa: tar failed: /, join(dir, 'out'));
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(dir, 'escape.txt'))).toBe(false);

    mkdirSync(join(dir, 'busy'));
    writeFileSync(join(dir, 'busy', 'keep.txt'), 'mine');
    expectRefused(kitRestore(kit, ['control', 'chats', 'busy'], dir), /busy is not empty/, join(dir, 'busy'), { targetExisted: true });
    expect(readdirSync(join(dir, 'busy'))).toEqual(['keep.txt']);
  });

  it('coffer key emergency-kit: 0700 folder, 0600 identity equal to export-age, refuses write-only keys and non-empty folders', () => {
    const dir = workspace();
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const kit = makeKit(dir, 'deep/kit');
    expect(statSync(kit).mode & 0o777).toBe(0o700);
    expect(statSync(join(kit, 'identity.txt')).mode & 0o777).toBe(0o600);
    expect(readdirSync(kit).sort()).toEqual(['README.txt', 'identity.txt', 'restore.sh']);
    const exported = coffer(['key', 'export-age', '--key-file', 'coffer.key'], { cwd: dir });
    expect(readFileSync(join(kit, 'identity.txt'), 'utf8')).toBe(exported.stdout);
    const readme = readFileSync(join(kit, 'README.txt'), 'utf8');
    expect(readme).toMatch(/keep it offline, beside the key/i);
    // Made from a config: the README names this setup's sources and destinations.
    expect(readme).toContain('sources: chats');
    expect(readme).toContain(`destination "disk" (local): its folder as it is: ${join(dir, 'backups')}`);
    expect(readme).toContain(`for example: sh restore.sh ${join(dir, 'backups')} chats ./restored`);
    for (const text of ['aws s3 sync s3://BUCKET/PREFIX ./copy', 'rclone copy', 'drive.appfolder', 'appDataFolder', 'sh restore.sh ./copy SOURCE ./restored']) expect(readme).toContain(text);

    const again = coffer(['key', 'emergency-kit', '--key-file', 'coffer.key', '--out', 'deep/kit'], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/deep\/kit is not empty; pass --force/);
    const forced = coffer(['key', 'emergency-kit', '--key-file', 'coffer.key', '--out', 'deep/kit', '--force'], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(readFileSync(join(kit, 'identity.txt'), 'utf8')).toBe(exported.stdout);

    expect(coffer(['key', 'write-only', '--key-file', 'coffer.key', '--out', 'wo.key'], { cwd: dir }).code).toBe(0);
    const writeOnly = coffer(['key', 'emergency-kit', '--key-file', 'wo.key', '--out', 'wo-kit'], { cwd: dir });
    expect(writeOnly.code).toBe(2);
    expect(writeOnly.stderr).toMatch(/^coffer: key file wo\.key is write-only: it cannot make an emergency kit/);
    expect(existsSync(join(dir, 'wo-kit'))).toBe(false);
  });
});
