import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coffer, listJson, snapshot, workspace, expectedTree } from './helpers.js';

// The real vault binary, as a separate process on loopback.
const VAULT_CLI = new URL('../../vault/dist/cli.js', import.meta.url).pathname;
let vaultDir: string;
let vault: ChildProcess;
let vaultUrl: string;
beforeAll(async () => {
  vaultDir = mkdtempSync(join(tmpdir(), 'coffer-e2e-vault-'));
  writeFileSync(join(vaultDir, 'vault.yaml'), 'listen: "127.0.0.1:0"\ndatabase: "sqlite:./vault.db"\nsecretsFile: ./vault-secrets\n');
  vault = spawn(process.execPath, [VAULT_CLI, 'serve', '--config', 'vault.yaml'], { cwd: vaultDir, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  vault.stderr!.on('data', (d) => (log += d));
  for (let i = 0; i < 100 && !log.includes('listening on'); i++) await new Promise((r) => setTimeout(r, 50));
  vaultUrl = log.match(/listening on (http:\/\/\S+)/)![1]!;
});
afterAll(() => {
  vault.kill('SIGTERM');
  rmSync(vaultDir, { recursive: true, force: true });
});

let n = 0;
function vaultWorkspace(retention = 'retention: { keepLast: 1 }', destinations?: string[]) {
  const account = `e2e-${process.pid}-${++n}`;
  const dir = workspace({ retention, extra: '', destinations });
  const yaml = join(dir, 'coffer.yaml');
  const text = readFileSync(yaml, 'utf8').replace('  file: ./coffer.key', `  file: ./coffer.key\n  vault: { url: "${vaultUrl}", account: ${account}, tokenFile: ./vault-token, maxAttempts: 3 }`);
  writeFileSync(yaml, text);
  writeFileSync(join(dir, 'pw'), 'correct horse battery staple\n', { mode: 0o600 });
  writeFileSync(join(dir, 'wrong'), 'not my password\n', { mode: 0o600 });
  return { dir, account };
}

describe('coffer with the key vault', () => {
  it('enroll, back up, lose the machine, get a new token from the operator, restore with the password alone', () => {
    const { dir, account } = vaultWorkspace();
    const init = coffer(['init', '--config', 'coffer.yaml', '--vault', '--password-file', 'pw'], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/(\s+[0-9a-f]{4}){16}/); // the 64-digit key, once, as a second way in
    expect(readFileSync(join(dir, 'coffer.key'), 'utf8')).toContain('coffer-write-only-key-v1'); // never the backup key
    const backup = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(backup.code, backup.stderr).toBe(0);
    const status = coffer(['vault', 'status', '--config', 'coffer.yaml'], { cwd: dir });
    expect(status.stdout).toMatch(/3 of 3 password tries remaining/);
    expect(status.stdout).toMatch(/chats: generation 1, backup \S+ \(verified\)/);

    // The machine is lost: key file, token and local state are gone.
    const oldToken = readFileSync(join(dir, 'vault-token'), 'utf8').trim();
    for (const f of ['coffer.key', 'vault-token']) unlinkSync(join(dir, f));
    rmSync(join(dir, '.coffer-state'), { recursive: true });
    const issued = spawnSync(process.execPath, [VAULT_CLI, 'token', 'issue', account, '--config', 'vault.yaml'], { cwd: vaultDir, encoding: 'utf8' });
    expect(issued.status).toBe(0);
    writeFileSync(join(dir, 'vault-token'), issued.stdout, { mode: 0o600 });
    const restore = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out', '--vault', '--password-file', 'pw'], { cwd: dir });
    expect(restore.code, restore.stderr).toBe(0);
    expect(snapshot(join(dir, 'out'))).toEqual(expectedTree(dir));
    // The old token was revoked by the new one.
    writeFileSync(join(dir, 'vault-token'), oldToken);
    const revoked = coffer(['verify', '--config', 'coffer.yaml', '--vault', '--password-file', 'pw'], { cwd: dir });
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toContain('vault: the vault refused the access token (revoked or wrong)');
  });

  it('wrong passwords say how many tries remain, then that the key is gone for good', () => {
    const { dir } = vaultWorkspace();
    expect(coffer(['init', '--config', 'coffer.yaml', '--vault', '--password-file', 'pw'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const tries = (file: string) => coffer(['verify', '--config', 'coffer.yaml', '--vault', '--password-file', file], { cwd: dir });
    const first = tries('wrong');
    expect(first.stderr.trim()).toBe('coffer: vault: wrong password; 2 tries remain before the vault destroys the key');
    expect(first.code).toBe(12); // wrong key or password
    expect(tries('wrong').stderr.trim()).toBe('coffer: vault: wrong password; 1 try remains before the vault destroys the key');
    const last = tries('wrong');
    expect(last.code).toBe(1);
    expect(last.stderr).toContain('destroyed this key for good');
    expect(tries('pw').stderr).toContain('destroyed this key for good');
  });

  it('a destination that serves an older authentic backup is refused (rollback)', () => {
    const { dir } = vaultWorkspace('retention: { keepLast: 2 }');
    expect(coffer(['init', '--config', 'coffer.yaml', '--vault', '--password-file', 'pw'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    writeFileSync(join(dir, 'chat', 'msgstore.db'), 'newer messages');
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    // The storage provider drops the newest backup and keeps serving the older, authentic one.
    const newest = listJson(dir).find((b) => b.generation === 2)!;
    unlinkSync(join(dir, 'backups', 'coffer', 'chats', `${newest.id}.age`));
    for (const cmd of [['restore', '--to', 'out'], ['verify']]) {
      const r = coffer([...cmd, '--config', 'coffer.yaml', '--vault', '--password-file', 'pw'], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/rollback refused: storage offers backups of chats up to generation 1, but the vault anchors generation 2/);
    }
    expect(existsSync(join(dir, 'out'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('coffer-restore'))).toEqual([]);
  });

  it('a chunked destination that drops the newest manifest is refused too (rollback)', () => {
    const { dir } = vaultWorkspace('retention: { keepLast: 2 }', ['  - { name: disk, type: local, path: ./backups, format: chunked }']);
    expect(coffer(['init', '--config', 'coffer.yaml', '--vault', '--password-file', 'pw'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    writeFileSync(join(dir, 'chat', 'msgstore.db'), 'newer messages');
    const second = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    const newest = listJson(dir).find((b) => b.generation === 2)!;
    const folder = join(dir, 'backups', 'coffer', readdirSync(join(dir, 'backups', 'coffer'))[0]!, 'backups');
    unlinkSync(join(folder, `${newest.id}.age`));
    for (const cmd of [['restore', '--to', 'out'], ['verify']]) {
      const r = coffer([...cmd, '--config', 'coffer.yaml', '--vault', '--password-file', 'pw'], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/rollback refused: storage offers backups of chats up to generation 1, but the vault anchors generation 2/);
    }
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('a backup made with another account’s key is refused', () => {
    const a = vaultWorkspace();
    const b = vaultWorkspace();
    for (const w of [a, b]) {
      expect(coffer(['init', '--config', 'coffer.yaml', '--vault', '--password-file', 'pw'], { cwd: w.dir }).code).toBe(0);
      expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: w.dir }).code).toBe(0);
    }
    // b's storage is replaced by a's backups.
    rmSync(join(b.dir, 'backups'), { recursive: true });
    spawnSync('cp', ['-r', join(a.dir, 'backups'), join(b.dir, 'backups')]);
    const r = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out', '--vault', '--password-file', 'pw'], { cwd: b.dir });
    expect(r.code).toBe(12);
    expect(r.stderr).toMatch(/made with another key[\s\S]*no backup made with key [0-9a-f]{16} was found/);
  });

  it('changes the password; backups need nothing', () => {
    const { dir } = vaultWorkspace();
    expect(coffer(['init', '--config', 'coffer.yaml', '--vault', '--password-file', 'pw'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    writeFileSync(join(dir, 'new'), 'a brand new password\n');
    const change = coffer(['vault', 'change-password', '--config', 'coffer.yaml', '--password-file', 'pw', '--new-password-file', 'new'], { cwd: dir });
    expect(change.code, change.stderr).toBe(0);
    expect(coffer(['verify', '--config', 'coffer.yaml', '--vault', '--password-file', 'new'], { cwd: dir }).code).toBe(0);
    expect(coffer(['verify', '--config', 'coffer.yaml', '--vault', '--password-file', 'pw'], { cwd: dir }).stderr).toContain('wrong password');
  });

  it('refuses to take a password from anywhere but a file or a terminal', () => {
    const { dir } = vaultWorkspace();
    const r = coffer(['init', '--config', 'coffer.yaml', '--vault'], { cwd: dir, env: { COFFER_PASSWORD_FILE: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('coffer: no new vault password: pass --password-file FILE or set COFFER_PASSWORD_FILE (passwords are never taken from the command line)');
  });
});

describe('a token alone changes nothing (issue 14 item 2)', () => {
  it('with only the access token, forged anchors are refused, and backup, restore and verify still succeed', async () => {
    const { dir, account } = vaultWorkspace();
    expect(coffer(['init', '--config', 'coffer.yaml', '--vault', '--password-file', 'pw'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    // The attacker holds the token file, nothing else: no password, no key file.
    const token = readFileSync(join(dir, 'vault-token'), 'utf8').trim();
    const anchored = (await (await fetch(`${vaultUrl}/v1/status`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ account }) })).json()) as { anchors: Record<string, unknown>[] };
    const real = anchored.anchors[0]!;
    const huge = Number.MAX_SAFE_INTEGER;
    const forged = [
      { ...real, generation: huge },
      { ...real, generation: huge, sig: '0'.repeat(128) },
      { ...real, generation: huge, sig: undefined, mac: 'a'.repeat(64) },
      { ...real, backupId: 'forged', generation: 2 },
      { ...real, generation: huge, sha256: 'f'.repeat(64) },
    ];
    for (const anchor of forged) {
      const res = await fetch(`${vaultUrl}/v1/anchor`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ account, anchor }) });
      expect(res.status, JSON.stringify(anchor)).toBe(400);
    }
    writeFileSync(join(dir, 'chat', 'msgstore.db'), 'after the attack');
    const backup = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(backup.code, backup.stderr).toBe(0);
    const status = coffer(['vault', 'status', '--config', 'coffer.yaml'], { cwd: dir });
    expect(status.stdout).toMatch(/chats: generation 2, backup \S+ \(verified\)/);
    const restore = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out', '--vault', '--password-file', 'pw'], { cwd: dir });
    expect(restore.code, restore.stderr).toBe(0);
    expect(readFileSync(join(dir, 'out', 'msgstore.db'), 'utf8')).toBe('after the attack');
    const verify = coffer(['verify', '--config', 'coffer.yaml', '--vault', '--password-file', 'pw'], { cwd: dir });
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('a write-only key file from before signed anchors: backups still work, the anchor update says how to fix it, register-key fixes it', () => {
    const { dir } = vaultWorkspace();
    expect(coffer(['init', '--config', 'coffer.yaml', '--vault', '--password-file', 'pw'], { cwd: dir }).code).toBe(0);
    const keyFile = join(dir, 'coffer.key');
    const current = readFileSync(keyFile, 'utf8');
    expect(current).toMatch(/^anchor-signing-key: /m);
    writeFileSync(keyFile, current.replace(/^anchor-signing-key: .*$/m, `anchor-mac-key: ${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`), { mode: 0o600 });
    const backup = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(backup.code).toBe(1);
    expect(backup.stderr).toContain('was made, but the vault\'s freshness anchor was not updated');
    expect(backup.stderr).toContain('predates signed anchors (no anchor-signing-key line)');
    expect(backup.stderr).toContain('coffer vault register-key --config');
    expect(listJson(dir)).toHaveLength(1);
    const register = coffer(['vault', 'register-key', '--config', 'coffer.yaml', '--password-file', 'pw'], { cwd: dir });
    expect(register.code, register.stderr).toBe(0);
    expect(register.stderr).toContain('added the anchor-signing key to');
    expect(readFileSync(keyFile, 'utf8')).toBe(current);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['vault', 'status', '--config', 'coffer.yaml'], { cwd: dir }).stdout).toMatch(/chats: generation 2, backup \S+ \(verified\)/);
  });
});

describe('vault URL', () => {
  it('a URL with a user name or password is a configuration error that does not repeat them', () => {
    const { dir } = vaultWorkspace();
    const yaml = join(dir, 'coffer.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(`url: "${vaultUrl}"`, 'url: "https://alice:hunter2secret@vault.example"'));
    const r = coffer(['vault', 'status', '--config', 'coffer.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/coffer\.yaml:\d+: key\.vault\.url: must not contain a user name or password \(the access token belongs in tokenFile\)/);
    expect(r.stderr).not.toContain('hunter2secret');
    expect(r.stderr).not.toContain('alice');
  });
});

describe('an account enrolled before signed anchors (upgrade path)', () => {
  it('its backups say how to register the anchor key; a password login registers it and drops a poisoned old anchor', () => {
    const { dir, account } = vaultWorkspace();
    expect(coffer(['init', '--config', 'coffer.yaml', '--vault', '--password-file', 'pw'], { cwd: dir }).code).toBe(0);
    // As an old vault left it: no anchor key, and an old-format anchor a token holder poisoned.
    const sql = `UPDATE accounts SET anchor_key = NULL WHERE account = '${account}';
      INSERT INTO anchors (account, source, generation, body) VALUES ('${account}', 'chats', 9007199254740991,
        '{"source":"chats","backupId":"x","generation":9007199254740991,"sha256":"${'f'.repeat(64)}","keyId":"0000000000000000","mac":"${'a'.repeat(64)}"}');`;
    const edit = spawnSync(process.execPath, ['-e', `const db = new (require('better-sqlite3'))(process.argv[1]); db.exec(process.argv[2]); db.close();`, join(vaultDir, 'vault.db'), sql], {
      cwd: new URL('../../vault', import.meta.url).pathname,
      encoding: 'utf8',
    });
    expect(edit.status, edit.stderr).toBe(0);
    const status = coffer(['vault', 'status', '--config', 'coffer.yaml'], { cwd: dir });
    expect(status.stdout).toContain('no anchor key registered: backups cannot be anchored until you run `coffer vault register-key`');
    const backup = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(backup.code).toBe(1);
    expect(backup.stderr).toContain('this account has no anchor key yet: log in once with the password (coffer vault register-key) to register it');
    // restore/verify --vault log in with the password, and so register the key on the way.
    const verify = coffer(['verify', '--config', 'coffer.yaml', '--vault', '--password-file', 'pw'], { cwd: dir });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stderr).toContain('registered this backup key\'s anchor key');
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['vault', 'status', '--config', 'coffer.yaml'], { cwd: dir }).stdout).toMatch(/chats: generation 2, backup \S+ \(verified\)/);
    const again = coffer(['vault', 'register-key', '--config', 'coffer.yaml', '--password-file', 'pw'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('the anchor key was already registered');
  });
});
