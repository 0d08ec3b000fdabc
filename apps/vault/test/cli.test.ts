import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as opaque from '@serenity-kit/opaque';
import { VaultClient, VaultError } from '@coffer/vault-protocol';
import { describe, expect, it } from 'vitest';
import { HOSTILE_ROUTES, rawRequest } from './harness.js';

const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const KEY = new Uint8Array(32).fill(5);

const serverLogs: string[] = [];

async function serve(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', 'vault.yaml'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const index = serverLogs.push('') - 1;
  child.stderr!.on('data', (d) => {
    log += d;
    serverLogs[index] += d;
  });
  for (let i = 0; i < 100 && !log.includes('listening on'); i++) await new Promise((r) => setTimeout(r, 50));
  const url = log.match(/listening on (http:\/\/\S+)/)?.[1];
  if (!url) throw new Error(`vault did not start: ${log}`);
  return { child, url };
}

function setup(): string {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-vault-cli-'));
  writeFileSync(join(dir, 'vault.yaml'), 'listen: "127.0.0.1:0"\ndatabase: "sqlite:./vault.db"\nsecretsFile: ./vault-secrets\n');
  return dir;
}

describe('coffer-vault CLI', () => {
  it('serve creates its 0600 secrets on first start and logs where it listens', async () => {
    const dir = setup();
    const { child, url } = await serve(dir);
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(statSync(join(dir, 'vault-secrets')).mode & 0o777).toBe(0o600);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('killed between login messages and restarted: the attempt stays counted and the record intact', async () => {
    const dir = setup();
    let { child, url } = await serve(dir);
    const account = 'restart';
    const token = await new VaultClient(url).enroll(account, 'pw', KEY, '0011223344556677', 5);
    await opaque.ready;
    const { startLoginRequest } = opaque.client.startLogin({ password: 'pw' });
    const start = await fetch(`${url}/v1/login/start`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ account, startLoginRequest }) });
    const { loginId } = (await start.json()) as { loginId: string };
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    ({ child, url } = await serve(dir));
    try {
      const finish = await fetch(`${url}/v1/login/finish`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ account, loginId, finishLoginRequest: 'AAAA' }) });
      expect(((await finish.json()) as { status: string }).status).toBe('BAD_REQUEST');
      const client = new VaultClient(url);
      expect((await client.status(account, token)).triesRemaining).toBe(4);
      expect(Buffer.from((await client.unlock(account, token, 'pw')).backupKey).equals(Buffer.from(KEY))).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('token issue gives a person who lost their machine a new token; the old one stops working', async () => {
    const dir = setup();
    const { child, url } = await serve(dir);
    try {
      const client = new VaultClient(url);
      const old = await client.enroll('lost', 'pw', KEY, '0011223344556677');
      const issued = spawnSync(process.execPath, [CLI, 'token', 'issue', 'lost', '--config', 'vault.yaml'], { cwd: dir, encoding: 'utf8' });
      expect(issued.status).toBe(0);
      const fresh = issued.stdout.trim();
      expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(((await client.status('lost', old).catch((e) => e)) as VaultError).status).toBe('UNAUTHORIZED');
      expect(Buffer.from((await client.unlock('lost', fresh, 'pw')).backupKey).equals(Buffer.from(KEY))).toBe(true);
      // The server logs requests, never tokens or message bodies.
      const logs = serverLogs.join('\n');
      expect(logs).toMatch(/POST \/v1\/login\/finish 200 OK/);
      for (const secret of [old, fresh, 'Bearer']) expect(logs).not.toContain(secret);
      const missing = spawnSync(process.execPath, [CLI, 'token', 'issue', 'nobody', '--config', 'vault.yaml'], { cwd: dir, encoding: 'utf8' });
      expect(missing.status).toBe(2);
      expect(missing.stderr.trim()).toBe('coffer-vault: no account "nobody" in this vault');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('hostile requests to the built server: prototype names are 404, garbage is 4xx, the process keeps serving', async () => {
    const dir = setup();
    const { child, url } = await serve(dir);
    try {
      for (const route of [...HOSTILE_ROUTES, 'status', 'anchor', 'enroll/finish']) {
        for (const body of ['{}', 'not json', '['.repeat(60_000), Buffer.from([0xff, 0xfe, 0x00, 0x80])]) {
          const r = await rawRequest(url, 'POST', `/v1/${encodeURI(route)}`, body);
          expect(r.http >= 400 && r.http < 500, `${r.http} for /v1/${route.slice(0, 40)}`).toBe(true);
        }
      }
      for (const route of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
        expect(await rawRequest(url, 'POST', `/v1/${route}`, '{}')).toEqual({ http: 404, body: '{"status":"NOT_FOUND","message":"no such route"}' });
      }
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('vault.db and its WAL and shared-memory files are 0600', async () => {
    const dir = setup();
    const { child, url } = await serve(dir);
    try {
      await new VaultClient(url).enroll('modes', 'pw', KEY, '0011223344556677');
      for (const f of ['vault.db', 'vault.db-wal', 'vault.db-shm']) expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('a bad config names the field and line', () => {
    const dir = setup();
    writeFileSync(join(dir, 'vault.yaml'), 'listen: "127.0.0.1:0"\ndatabase: "mysql://x"\n');
    const r = spawnSync(process.execPath, [CLI, 'serve', '--config', 'vault.yaml'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('coffer-vault: vault.yaml:2: database: must start with "sqlite:" or "postgres://"');
  });
});

describe('coffer-vault over TLS', () => {
  it('serves HTTPS from certificate files', async () => {
    const dir = setup();
    const openssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
    expect(openssl.status, openssl.stderr).toBe(0);
    writeFileSync(join(dir, 'vault.yaml'), 'listen: "127.0.0.1:0"\ndatabase: "sqlite:./vault.db"\nsecretsFile: ./vault-secrets\ntls: { certFile: ./cert.pem, keyFile: ./key.pem }\n');
    const child = spawn(process.execPath, [CLI, 'serve', '--config', 'vault.yaml'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr!.on('data', (d) => (log += d));
    try {
      for (let i = 0; i < 100 && !log.includes('listening on'); i++) await new Promise((r) => setTimeout(r, 50));
      const url = log.match(/listening on (https:\/\/\S+)/)?.[1];
      expect(url, log).toBeDefined();
      const { request } = await import('node:https');
      const status = await new Promise<number>((resolve, reject) =>
        request(`${url}/healthz`, { ca: readFileSync(join(dir, 'cert.pem')) }, (res) => resolve(res.statusCode ?? 0)).on('error', reject).end(),
      );
      expect(status).toBe(200);
      // Plain HTTP to the TLS port gets no vault answer.
      const plain = await fetch(url!.replace('https:', 'http:') + '/healthz').then((r) => r.status, () => 'refused');
      expect(plain).not.toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
