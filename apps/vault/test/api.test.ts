import { readFileSync, existsSync } from 'node:fs';
import fc from 'fast-check';
import { deriveKeyMaterial } from '@coffer/crypto';
import { anchorPublicKey, signAnchor, STATUSES, verifyAnchor, VaultClient, VaultError } from '@coffer/vault-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type Postgres } from '../src/testing/postgres.js';
import { startVault, type TestVault } from './harness.js';

const KEY = new Uint8Array(32).map((_, i) => i + 1);
const KEY_ID = '00112233aabbccdd';
let n = 0;
const name = () => `user-${process.pid}-${++n}`;

async function raw(vault: TestVault, path: string, body: unknown, token?: string) {
  const res = await fetch(`${vault.url}/v1/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { http: res.status, body: (await res.json()) as { status: string; triesRemaining?: number } };
}

const error = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as VaultError);

let vault: TestVault;
let client: VaultClient;
beforeAll(async () => {
  vault = await startVault();
  client = new VaultClient(vault.url);
});
afterAll(() => vault.close());

describe('vault over HTTP (SQLite)', () => {
  it('escrows the backup key behind a password; the name is first come', async () => {
    const account = name();
    const token = await client.enroll(account, 'correct horse battery', KEY, KEY_ID);
    const { backupKey } = await client.unlock(account, token, 'correct horse battery');
    expect(Buffer.from(backupKey).equals(Buffer.from(KEY))).toBe(true);
    expect((await error(client.enroll(account, 'other', KEY, KEY_ID)))?.status).toBe('CONFLICT');
    // The vault stores no password and no key: only the OPAQUE record and the sealed escrow.
    const row = await vault.store.getAccount(account);
    expect(JSON.stringify(row)).not.toContain('correct horse');
    expect(row!.escrow).not.toContain(Buffer.from(KEY).toString('base64url'));
  });

  it('wrong passwords count down to lockout; then the key is gone from the database file itself', async () => {
    const account = name();
    const token = await client.enroll(account, 'right', KEY, KEY_ID, 3);
    const escrow = (await vault.store.getAccount(account))!.escrow!;
    const fileHas = (s: string) => [vault.dbPath!, `${vault.dbPath}-wal`].some((f) => existsSync(f) && readFileSync(f).includes(Buffer.from(s)));
    expect(fileHas(escrow)).toBe(true);
    const first = await error(client.unlock(account, token, 'wrong'));
    expect(first).toMatchObject({ status: 'WRONG_PASSWORD', triesRemaining: 2 });
    expect(first!.message).toBe('wrong password; 2 tries remain before the vault destroys the key');
    expect(await error(client.unlock(account, token, 'wrong'))).toMatchObject({ status: 'WRONG_PASSWORD', triesRemaining: 1 });
    const last = await error(client.unlock(account, token, 'wrong'));
    expect(last).toMatchObject({ status: 'LOCKED' });
    expect(last!.message).toContain('destroyed this key for good');
    expect(await vault.store.getAccount(account)).toMatchObject({ record: null, escrow: null, locked: true });
    expect(fileHas(escrow)).toBe(false);
    expect((await error(client.unlock(account, token, 'right')))?.status).toBe('LOCKED');
  });

  it('a successful login resets the count', async () => {
    const account = name();
    const token = await client.enroll(account, 'right', KEY, KEY_ID, 3);
    await error(client.unlock(account, token, 'wrong'));
    await error(client.unlock(account, token, 'wrong'));
    await client.unlock(account, token, 'right');
    expect((await client.status(account, token)).triesRemaining).toBe(3);
  });

  it('without the access token nobody can try, so nobody can burn the tries', async () => {
    const account = name();
    const token = await client.enroll(account, 'right', KEY, KEY_ID, 3);
    for (const t of [undefined, 'not-the-token', `${token}x`]) {
      const r = await raw(vault, 'login/start', { account, startLoginRequest: 'AAAA' }, t);
      expect(r).toMatchObject({ http: 401, body: { status: 'UNAUTHORIZED' } });
    }
    expect((await client.status(account, token)).triesRemaining).toBe(3);
    expect((await error(client.unlock(account, 'wrong-token', 'right')))?.status).toBe('UNAUTHORIZED');
  });

  it('rotating the token revokes the old one', async () => {
    const account = name();
    const token = await client.enroll(account, 'right', KEY, KEY_ID);
    const fresh = await client.rotateToken(account, token);
    expect((await error(client.status(account, token)))?.status).toBe('UNAUTHORIZED');
    expect((await client.status(account, fresh)).triesRemaining).toBe(10);
  });

  it('changes the password without changing the backup key', async () => {
    const account = name();
    const token = await client.enroll(account, 'old password', KEY, KEY_ID);
    await client.changePassword(account, token, 'old password', 'new password', KEY_ID);
    expect((await error(client.unlock(account, token, 'old password')))?.status).toBe('WRONG_PASSWORD');
    const { backupKey } = await client.unlock(account, token, 'new password');
    expect(Buffer.from(backupKey).equals(Buffer.from(KEY))).toBe(true);
  });

  it('a database edited behind the server’s back yields no key', async () => {
    const [a, b] = [name(), name()];
    const ta = await client.enroll(a, 'pw-a', KEY, KEY_ID);
    const tb = await client.enroll(b, 'pw-b', new Uint8Array(32).fill(9), KEY_ID);
    const ra = (await vault.store.getAccount(a))!;
    const rb = (await vault.store.getAccount(b))!;
    // Swap the OPAQUE record and escrow between accounts: b's password opens nothing of a's.
    await vault.store.replaceCredentials(a, rb.record!, rb.escrow!);
    expect(await error(client.unlock(a, ta, 'pw-b'))).toBeInstanceOf(VaultError);
    expect(await error(client.unlock(a, ta, 'pw-a'))).toBeInstanceOf(VaultError);
    // Alter the ciphertext of an escrow: the right password still gets no key.
    const altered = Buffer.from(rb.escrow!, 'base64url');
    altered[20]! ^= 1;
    await vault.store.replaceCredentials(b, rb.record!, altered.toString('base64url'));
    const e = await error(client.unlock(b, tb, 'pw-b'));
    expect(e).toMatchObject({ status: 'PROTOCOL' });
    expect(e!.message).toContain('does not authenticate');
    void ra;
  });

  it('stores anchors it cannot forge, and refuses older ones', async () => {
    const account = name();
    const token = await client.enroll(account, 'pw', KEY, KEY_ID);
    const seed = deriveKeyMaterial(KEY).anchorSigningKey;
    const a2 = signAnchor(seed, account, { source: 'chats', backupId: 'b2', generation: 2, sha256: 'c'.repeat(64), keyId: KEY_ID });
    await client.putAnchor(account, token, a2);
    const stale = signAnchor(seed, account, { ...a2, backupId: 'b1', generation: 1 });
    expect((await error(client.putAnchor(account, token, stale)))?.status).toBe('CONFLICT');
    const status = await client.status(account, token);
    expect(status.anchorKey).toBe(anchorPublicKey(seed));
    const [stored] = status.anchors;
    const pub = anchorPublicKey(seed);
    expect(verifyAnchor(pub, account, stored!)).toBe(true);
    expect(verifyAnchor(pub, account, { ...stored!, generation: 5 })).toBe(false); // edited by the vault
    expect(verifyAnchor(pub, `${account}-other`, stored!)).toBe(false); // another account's
  });

  it('fuzzed bodies and headers never produce a 500 or a crash', async () => {
    const routes = ['enroll/start', 'enroll/finish', 'login/start', 'login/finish', 'login/abort', 'password/start', 'password/finish', 'anchor', 'status', 'token/rotate', 'nope'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v)), fc.record({ account: fc.string(), startLoginRequest: fc.base64String() }).map((v) => JSON.stringify(v))),
        fc.option(fc.string({ maxLength: 200 })),
        async (route, body, auth) => {
          const res = await fetch(`${vault.url}/v1/${route}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(auth !== null ? { authorization: auth.replace(/[^\x20-\x7e]/g, '') } : {}) },
            body,
          });
          expect(res.status).toBeLessThan(500);
          expect(STATUSES).toContain(((await res.json()) as { status: string }).status);
        },
      ),
      { numRuns: 300 },
    );
    const big = await fetch(`${vault.url}/v1/status`, { method: 'POST', body: 'x'.repeat(200_000) });
    expect(big.status).toBe(400);
    expect((await fetch(`${vault.url}/healthz`)).status).toBe(200);
  });
});

describe('rate limits', () => {
  it('limits logins per account without counting the refused tries', async () => {
    const limited = await startVault(undefined, { requestsPerIpPerMinute: 1000, loginsPerAccountPerMinute: 2 });
    try {
      const c = new VaultClient(limited.url);
      const account = name();
      const token = await c.enroll(account, 'pw', KEY, KEY_ID, 5);
      await c.unlock(account, token, 'pw');
      await error(c.unlock(account, token, 'wrong'));
      const third = await raw(limited, 'login/start', { account, startLoginRequest: 'AAAA' }, token);
      expect(third).toMatchObject({ http: 429, body: { status: 'RATE_LIMITED', triesRemaining: 4 } });
      expect((await limited.store.getAccount(account))!.attempts).toBe(1);
    } finally {
      await limited.close();
    }
  });

  it('limits requests per client address', async () => {
    const limited = await startVault(undefined, { requestsPerIpPerMinute: 3, loginsPerAccountPerMinute: 100 });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await raw(limited, 'status', { account: 'nobody' })).body.status);
      expect(statuses).toEqual(['UNAUTHORIZED', 'UNAUTHORIZED', 'UNAUTHORIZED', 'RATE_LIMITED', 'RATE_LIMITED']);
    } finally {
      await limited.close();
    }
  });
});

describe('concurrent guessing cannot exceed the limit', () => {
  let pg: Postgres;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(() => pg?.stop());

  for (const db of ['sqlite', 'postgres'] as const) {
    it(`50 concurrent wrong passwords against a limit of 10: exactly 10 counted, record destroyed (${db})`, async () => {
      const v = db === 'sqlite' ? vault : await startVault(pg.url);
      try {
        const c = new VaultClient(v.url);
        const account = name();
        const token = await c.enroll(account, 'right', KEY, KEY_ID, 10);
        const results = await Promise.all(Array.from({ length: 50 }, () => error(c.unlock(account, token, 'wrong'))));
        const wrong = results.filter((e) => e?.status === 'WRONG_PASSWORD').length;
        const locked = results.filter((e) => e?.status === 'LOCKED').length;
        expect(wrong + locked).toBe(50);
        expect(wrong).toBeLessThanOrEqual(10);
        // Exactly 10 guesses reached OPAQUE: the counter stopped at the limit.
        const row = await v.store.getAccount(account);
        expect(row).toMatchObject({ locked: true, record: null, escrow: null, attempts: 10 });
        expect((await error(c.unlock(account, token, 'right')))?.status).toBe('LOCKED');
      } finally {
        if (v !== vault) await v.close();
      }
    });
  }
});
