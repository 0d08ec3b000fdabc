import { copyFileSync, createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncryptStream, parseKeyFile, readBackupMetadata } from '@coffer/crypto';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { coffer, listJson, workspace } from './helpers.js';

const BASE = ['key:', '  file: ./coffer.key', 'sources:', '  - name: chats', '    path: ./chat', 'destinations:', '  - { name: disk, type: local, path: ./backups }'];

/** [why, yaml lines, exact stderr] — each line of stderr is "coffer: FILE:LINE: FIELD: PROBLEM". */
const CASES: [string, string[], string][] = [
  ['misspelt field', [...BASE.slice(0, 5), '    exlude: ["*.tmp"]', ...BASE.slice(5)], 'c.yaml:6: sources[0]: unknown field "exlude"'],
  ['missing source path', [...BASE.slice(0, 4), ...BASE.slice(5)], 'c.yaml:4: sources[0].path: is required'],
  ['unknown destination type', [...BASE.slice(0, 6), '  - { name: disk, type: ftp, path: ./b }'], 'c.yaml:7: destinations[0].type: type must be one of "local", "s3", "drive"'],
  ['schedule every of the wrong type', [...BASE, 'schedule: { every: 5 }'], 'c.yaml:8: schedule.every: must be a string'],
  ['schedule too frequent', [...BASE, 'schedule: { every: "10s" }'], 'c.yaml:8: schedule.every: must be a duration of at least 1m, like "30m", "6h" or "1d"'],
  ['both every and cron', [...BASE, 'schedule: { every: "6h", cron: "0 3 * * *" }'], 'c.yaml:8: schedule: give exactly one of every (like "6h") or cron (like "0 3 * * *")'],
  ['bad cron', [...BASE, 'schedule: { cron: "61 * * * *" }'], 'c.yaml:8: schedule.cron: is not a valid cron expression'],
  ['YAML syntax error', ['key:', '  file: ./k', ' sources: oops'], 'c.yaml:3: YAML syntax: All mapping items must start at the same column'],
  ['no sources', ['key:', '  file: ./k', 'sources: []', ...BASE.slice(5)], 'c.yaml:3: sources: list at least one source'],
  ['short bucket name', [...BASE.slice(0, 6), '  - { name: s3, type: s3, bucket: b }'], 'c.yaml:7: destinations[0].bucket: must be at least 3 characters'],
  ['inline secret', [...BASE.slice(0, 6), '  - { name: s3, type: s3, bucket: bkt, secretAccessKey: abc }'], 'c.yaml:7: destinations[0]: unknown field "secretAccessKey"; secrets are never written in the config: name an environment variable with "secretAccessKeyEnv"'],
  ['keepLast 0', [...BASE, 'retention: { keepLast: 0 }'], 'c.yaml:8: retention.keepLast: must be at least 1: the newest backup is always kept'],
  ['keepLast not a number', [...BASE, 'retention: { keepLast: "all" }'], 'c.yaml:8: retention.keepLast: must be a number'],
  ['duplicate source names', [...BASE.slice(0, 5), '  - name: chats', '    path: ./other', ...BASE.slice(5)], 'c.yaml:6: sources[1].name: "chats" is used twice'],
  ['source name with a slash', ['key:', '  file: ./k', 'sources:', '  - name: "a/b"', '    path: ./c', ...BASE.slice(5)], 'c.yaml:4: sources[0].name: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit'],
  ['daemon on a public address', [...BASE, 'daemon: { listen: "0.0.0.0:9464" }'], 'c.yaml:8: daemon.listen: must be a loopback address like "127.0.0.1:9464"'],
  ['destinations is a mapping', [...BASE.slice(0, 5), 'destinations:', '  disk: { type: local }'], 'c.yaml:6: destinations: must be a list'],
  ['duplicate YAML key', ['key:', '  file: ./a', '  file: ./b'], 'c.yaml:3: YAML syntax: Map keys must be unique'],
];

describe('broken configs: each gets its exact message, exit code 2, and no stack trace', () => {
  it.each(CASES)('%s', (_why, lines, expected) => {
    const dir = workspace();
    writeFileSync(join(dir, 'c.yaml'), `${lines.join('\n')}\n`);
    const r = coffer(['backup', '--config', 'c.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')[0]).toBe(`coffer: ${expected}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports every problem at once', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'c.yaml'), 'sources: []\nextra: 1\n');
    const r = coffer(['backup', '--config', 'c.yaml'], { cwd: dir });
    expect(r.stderr.trim().split('\n')).toEqual([
      'coffer: c.yaml:1: key: is required',
      'coffer: c.yaml:1: sources: list at least one source',
      'coffer: c.yaml:1: destinations: is required',
      'coffer: c.yaml:2: (top level): unknown field "extra"',
    ]);
  });

  it('a source folder that is missing or not a folder fails its backup, and leaves no object behind', () => {
    const dir = workspace();
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    rmSync(join(dir, 'chat'), { recursive: true });
    const missing = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`source chats: backup failed: cannot read ${join(dir, 'chat')}: ENOENT`);
    writeFileSync(join(dir, 'chat'), 'a file, not a folder');
    const file = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(file.code).toBe(1);
    expect(file.stderr).toContain('cannot read');
    expect(file.stderr).toContain(': ENOTDIR');
    expect(file.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'backups', 'coffer'))).toBe(false);
  });

  it('a missing config file and a missing option', () => {
    const dir = workspace();
    expect(coffer(['backup', '--config', 'nope.yaml'], { cwd: dir }).stderr.trim()).toBe('coffer: cannot read config nope.yaml: no such file');
    const r = coffer(['backup'], { cwd: dir, env: { COFFER_CONFIG: '', XDG_CONFIG_HOME: dir } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`coffer: no config: pass --config FILE (-c), set COFFER_CONFIG, or create ${dir}/coffer/coffer.yaml (the default is missing)`);
  });

  it('an error that escapes every handler (a bug) still gets one line and a failing exit code', () => {
    const dir = workspace();
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    // Loaded before the CLI, thrown once it is running: nothing in Coffer can catch it.
    for (const [kind, code] of [['exception', 'throw new Error("stray bug")'], ['rejection', 'Promise.reject(new Error("stray bug"))']]) {
      writeFileSync(join(dir, 'bug.cjs'), `setImmediate(() => { ${code}; });`);
      const env = { NODE_OPTIONS: `--require ${join(dir, 'bug.cjs')}` };
      const r = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir, env });
      expect([kind, r.code, r.stderr]).toEqual([kind, 70, 'coffer: internal error: stray bug (run with --debug for details)\n']);
      const debug = coffer(['backup', '--config', 'coffer.yaml', '--debug'], { cwd: dir, env });
      expect(debug.code).toBe(70);
      expect(debug.stderr).toMatch(/^Error: stray bug\n\s+at /m);
    }
    expect(listJson(dir).length).toBeLessThanOrEqual(1);
  });
});

function ready(retention = 'retention: { keepLast: 1 }') {
  const dir = workspace({ retention });
  expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
  expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
  return dir;
}
const objects = (dir: string) => readdirSync(join(dir, 'backups', 'coffer', 'chats')).map((n) => join(dir, 'backups', 'coffer', 'chats', n));

/** restore and verify both fail with `message` (and `code`), and DIR is left exactly as it was. */
function expectRefused(dir: string, message: string | RegExp, code = 1) {
  mkdirSync(join(dir, 'out'));
  writeFileSync(join(dir, 'out', '.keep'), '');
  const restore = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out', '--force'], { cwd: dir });
  expect(restore.code).toBe(code);
  expect(restore.stderr).toMatch(message);
  expect(readdirSync(join(dir, 'out'))).toEqual(['.keep']);
  expect(readdirSync(dir).filter((n) => n.includes('coffer-restore'))).toEqual([]);
  const verify = coffer(['verify', '--config', 'coffer.yaml'], { cwd: dir });
  expect(verify.code).toBe(code);
  expect(verify.stderr).toMatch(message);
  expect(verify.stderr).not.toMatch(/\n\s+at /);
}

describe('bad keys and damaged backups', () => {
  it('a key file with a typo', () => {
    const dir = ready();
    const text = readFileSync(join(dir, 'coffer.key'), 'utf8').replace(/(coffer-backup-key-v1: ....)./, '$1O');
    writeFileSync(join(dir, 'coffer.key'), text);
    const r = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^coffer: key file .*coffer\.key: backup key has an invalid character 'O' at position 6 \(did you mean '0'\?\)/);
    expect(r.stderr).not.toMatch(/[0-9a-f]{4} [0-9a-f]{4}/); // the key is never echoed
  });

  it('another backup key', () => {
    const dir = ready();
    renameSync(join(dir, 'coffer.key'), join(dir, 'old.key'));
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expectRefused(dir, /made with another key\)[\s\S]*coffer: no backup made with key [0-9a-f]{16} was found/, 12);
  });

  it('an authentic backup whose archive reaches outside the restore folder', async () => {
    const dir = ready();
    const [file] = objects(dir);
    // Someone holding the key re-encrypts the backup around a tar made to escape: the name is refused.
    const key = parseKeyFile(readFileSync(join(dir, 'coffer.key'), 'utf8')).material;
    const { metadata } = await readBackupMetadata(createReadStream(file!), key);
    const tar = pack();
    tar.entry({ name: 'fine.txt' }, 'ok');
    tar.entry({ name: '../pwned.txt' }, 'escaped');
    tar.finalize();
    await pipeline(Readable.from(tar), createEncryptStream({ key, metadata }), createWriteStream(file!));
    expectRefused(dir, /the backup holds an entry that would land outside the restore folder: "\.\.\/pwned\.txt"/);
    expect(existsSync(join(dir, 'pwned.txt'))).toBe(false);
  });

  it('a bit flipped in the payload', () => {
    const dir = ready();
    const [file] = objects(dir);
    const bytes = readFileSync(file!);
    bytes[bytes.length - 5000]! ^= 0x04;
    writeFileSync(file!, bytes);
    expectRefused(dir, /backup is corrupted or has been tampered with/);
  });

  it('a truncated backup', () => {
    const dir = ready();
    const [file] = objects(dir);
    const bytes = readFileSync(file!);
    writeFileSync(file!, bytes.subarray(0, bytes.length - 70_000));
    expectRefused(dir, /backup is corrupted or has been tampered with/);
  });

  it('a bit flipped in the header', () => {
    const dir = ready();
    const [file] = objects(dir);
    const bytes = readFileSync(file!);
    bytes[200]! ^= 0x01;
    writeFileSync(file!, bytes);
    expectRefused(dir, /damaged or tampered with\)[\s\S]*coffer: no backup made with key [0-9a-f]{16} was found/);
  });

  it('an older backup swapped in under the newest one’s name', () => {
    const dir = ready('retention: { keepLast: 2 }');
    writeFileSync(join(dir, 'chat', 'msgstore.db'), 'newer');
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const byGeneration = listJson(dir).sort((a, b) => a.generation - b.generation);
    const path = (id: string) => join(dir, 'backups', 'coffer', 'chats', `${id}.age`);
    copyFileSync(path(byGeneration[0]!.id), path(byGeneration[1]!.id));
    // The swapped copy names another backup id inside its authenticated header: it is refused,
    // and `latest` is the newest backup that does authenticate.
    const list = coffer(['list', '--config', 'coffer.yaml'], { cwd: dir });
    expect(list.stderr).toContain('stored under the wrong name; ignored');
    expect(listJson(dir).map((b) => b.generation)).toEqual([1]);
  });

  it('latest does not fall back to an older backup when the newest fails to authenticate, unless told to', () => {
    const dir = ready('retention: { keepLast: 2 }');
    writeFileSync(join(dir, 'chat', 'msgstore.db'), 'newer');
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const [older, newer] = listJson(dir).sort((a, b) => a.generation - b.generation);
    const newest = join(dir, 'backups', 'coffer', 'chats', `${newer!.id}.age`);
    const bytes = readFileSync(newest);
    bytes[bytes.length - 100]! ^= 1;
    writeFileSync(newest, bytes);
    // Storage that damages the newest backup must not get the older one restored in its place.
    const r = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir });
    expect([r.code, r.stderr]).toEqual([
      1,
      `coffer: the newest backup could not be read in full (backup ${newer!.id} (generation 2) on disk: backup is corrupted or has been tampered with); restoring an older one instead would be a rollback: name the backup to restore (see coffer list) or pass --accept-older\n`,
    ]);
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes('coffer-restore'))).toEqual([]);

    const accepted = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out', '--accept-older'], { cwd: dir });
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stderr).toContain(`warning: restoring a backup older than the newest, which could not be read in full (backup ${newer!.id} (generation 2) on disk: backup is corrupted or has been tampered with)\n`);
    expect(accepted.stderr).toContain(`restored backup ${older!.id} of chats (generation 1,`);
    expect(readFileSync(join(dir, 'out', 'msgstore.db'), 'utf8')).not.toBe('newer');

    // Naming the older backup is a choice, not a fallback: no warning.
    const named = coffer(['restore', older!.id, '--config', 'coffer.yaml', '--to', 'named'], { cwd: dir });
    expect(named.code, named.stderr).toBe(0);
    expect(named.stderr).toBe(`restored backup ${older!.id} of chats (generation 1, ${older!.createdAt}) from disk into named\n`);
  });
});
