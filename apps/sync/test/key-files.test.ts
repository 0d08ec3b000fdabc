import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, coffer, workspace } from './helpers.js';

function initialized(): string {
  const dir = workspace();
  expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
  return dir;
}

describe('a key file other users can open is used, with one warning line', () => {
  it('a backup key readable by everyone, in each command that reads it', () => {
    const dir = initialized();
    chmodSync(join(dir, 'coffer.key'), 0o644);
    const warning = `warning: key file ${join(dir, 'coffer.key')} is open to other users (mode 0644); it is a secret: chmod 600 ${join(dir, 'coffer.key')}\n`;
    const backup = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(backup.code).toBe(0);
    expect(backup.stderr.startsWith(warning)).toBe(true);
    expect(backup.stderr.split(warning)).toHaveLength(2); // once
    const list = coffer(['list', '--config', 'coffer.yaml'], { cwd: dir });
    expect([list.code, list.stderr]).toEqual([0, warning]);
    const verify = coffer(['verify', '--config', 'coffer.yaml'], { cwd: dir });
    expect([verify.code, verify.stderr]).toEqual([0, warning]);
    const exported = coffer(['key', 'export-age', '--key-file', 'coffer.key'], { cwd: dir });
    expect([exported.code, exported.stderr]).toEqual([0, 'warning: key file coffer.key is open to other users (mode 0644); it is a secret: chmod 600 coffer.key\n']);

    chmodSync(join(dir, 'coffer.key'), 0o640); // the group alone is warned about too
    expect(coffer(['list', '--config', 'coffer.yaml'], { cwd: dir }).stderr).toContain('(mode 0640)');
    chmodSync(join(dir, 'coffer.key'), 0o600);
    expect(coffer(['list', '--config', 'coffer.yaml'], { cwd: dir }).stderr).toBe('');
    expect(coffer(['list', '--config', 'coffer.yaml', '--key-file', 'coffer.key'], { cwd: dir }).stderr).toBe('');
  });

  it('a write-only key too: it makes backups that restore as yours', () => {
    const dir = initialized();
    expect(coffer(['key', 'write-only', '--key-file', 'coffer.key', '--out', 'w.key'], { cwd: dir }).code).toBe(0);
    chmodSync(join(dir, 'w.key'), 0o604);
    writeFileSync(join(dir, 'coffer.yaml'), readFileSync(join(dir, 'coffer.yaml'), 'utf8').replace('./coffer.key', './w.key'));
    const r = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`warning: key file ${join(dir, 'w.key')} is open to other users (mode 0604)`);
  });
});

describe('key export-age --out FILE', () => {
  it('writes the identity with mode 0600 whatever the umask, and refuses to overwrite unless --force', () => {
    const dir = initialized();
    const printed = coffer(['key', 'export-age', '--key-file', 'coffer.key'], { cwd: dir }).stdout;
    // umask 0 would leave a new file 0666.
    const run = (...args: string[]) => spawnSync('sh', ['-c', 'umask 000; exec "$@"', 'sh', process.execPath, CLI, 'key', 'export-age', '--key-file', 'coffer.key', ...args], { cwd: dir, encoding: 'utf8' });
    const written = run('--out', 'identity.txt');
    expect([written.status, written.stdout]).toEqual([0, '']);
    expect(written.stderr).toMatch(/^wrote the age identity of key [0-9a-f]{16} to identity\.txt \(mode 0600\): anyone with it can read your backups\n$/);
    expect(statSync(join(dir, 'identity.txt')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'identity.txt'), 'utf8')).toBe(printed);

    writeFileSync(join(dir, 'old.txt'), 'something else', { mode: 0o644 });
    const refused = run('--out', 'old.txt');
    expect([refused.status, refused.stderr]).toEqual([1, 'coffer: old.txt already exists; refusing to overwrite a key (pass --force to replace it)\n']);
    expect(readFileSync(join(dir, 'old.txt'), 'utf8')).toBe('something else');
    const forced = run('--out', 'old.txt', '--force');
    expect(forced.status, forced.stderr).toBe(0);
    expect(readFileSync(join(dir, 'old.txt'), 'utf8')).toBe(printed);
    expect(statSync(join(dir, 'old.txt')).mode & 0o777).toBe(0o600); // not the old file's 0644
  });

  it('printing into a file others can read is warned about', () => {
    const dir = initialized();
    const r = spawnSync('sh', ['-c', `umask 022; "${process.execPath}" "${CLI}" key export-age --key-file coffer.key > identity.txt`], { cwd: dir, encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([0, 'warning: the identity goes to a file other users can open (mode 0644); use --out FILE, which writes it with mode 0600\n']);
    expect(readFileSync(join(dir, 'identity.txt'), 'utf8')).toMatch(/^AGE-SECRET-KEY-1/m);
    const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" key export-age --key-file coffer.key | cat`], { cwd: dir, encoding: 'utf8' });
    expect([piped.status, piped.stderr]).toEqual([0, '']);
  });
});
