import Database from 'better-sqlite3';
import { deriveKeyMaterial } from '@coffer/crypto';
import { anchorPublicKey, signAnchor, VaultClient, type Anchor } from '@coffer/vault-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVault, type TestVault } from './harness.js';

const KEY = new Uint8Array(32).fill(11);
const KEY_ID = '00112233aabbccdd';
const seed = deriveKeyMaterial(KEY).anchorSigningKey;
let n = 0;
const name = () => `anchor-${process.pid}-${++n}`;
const base = { source: 'chats', backupId: 'b1', generation: 1, sha256: 'c'.repeat(64), keyId: KEY_ID };

let vault: TestVault;
let client: VaultClient;
beforeAll(async () => {
  vault = await startVault();
  client = new VaultClient(vault.url);
});
afterAll(() => vault.close());

async function post(path: string, body: unknown, token?: string) {
  const res = await fetch(`${vault.url}/v1/${path}`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {}, body: JSON.stringify(body) });
  return { http: res.status, body: (await res.json()) as { status: string; message?: string } };
}

describe('a token alone cannot write an anchor (PROTOCOL.md, Freshness anchors)', () => {
  it('forged anchors of every shape are refused with a 4xx and nothing is stored; a signed one is accepted', async () => {
    const account = name();
    const token = await client.enroll(account, 'pw', KEY, KEY_ID);
    const other = name();
    await client.enroll(other, 'pw', KEY, KEY_ID);
    const huge = Number.MAX_SAFE_INTEGER;
    const attackerSeed = new Uint8Array(32).fill(99);
    const forged: unknown[] = [
      { ...base, generation: huge, sig: '0'.repeat(128) },
      { ...base, generation: huge, sig: 'ab'.repeat(64) },
      signAnchor(attackerSeed, account, { ...base, generation: huge }), // signed, by a key not registered
      { ...signAnchor(seed, account, base), generation: huge }, // a real signature, another generation
      signAnchor(seed, other, { ...base, generation: huge }), // signed for another account
      { ...base, generation: huge, mac: 'b'.repeat(64) }, // the old MAC shape
      { ...base, generation: huge + 1, sig: signAnchor(seed, account, base).sig }, // past 2^53 − 1
      { ...base, generation: 2 ** 64, sig: '0'.repeat(128) },
      { ...base, generation: -1, sig: '0'.repeat(128) },
      { ...base, generation: huge, sig: '0'.repeat(128), extra: 1 },
    ];
    for (const anchor of forged) {
      const r = await post('anchor', { account, anchor }, token);
      expect(r.http, JSON.stringify(anchor)).toBe(400);
      expect(r.body.status).toBe('BAD_REQUEST');
    }
    expect(await vault.store.anchors(account)).toEqual([]);
    expect(await post('anchor', { account, anchor: signAnchor(seed, account, base) }, token)).toMatchObject({ http: 200, body: { status: 'OK' } });
    expect((await client.status(account, token)).anchors.map((a) => a.generation)).toEqual([1]);
  });

  it('a token alone cannot replace the anchor key: that needs a password login', async () => {
    const account = name();
    const token = await client.enroll(account, 'pw', KEY, KEY_ID);
    const other = name();
    const otherToken = await client.enroll(other, 'pw', KEY, KEY_ID);
    const { sessionId: otherSession } = await client.unlock(other, otherToken, 'pw');
    const attackerKey = anchorPublicKey(new Uint8Array(32).fill(99));
    for (const sessionId of ['AAAA', otherSession]) {
      expect(await post('anchor-key', { account, sessionId, anchorKey: attackerKey }, token)).toMatchObject({ http: 401, body: { status: 'UNAUTHORIZED' } });
    }
    expect((await client.status(account, token)).anchorKey).toBe(anchorPublicKey(seed));
  });

  it('the vault hands out only anchors that verify: a row edited in the database is not returned', async () => {
    const account = name();
    const token = await client.enroll(account, 'pw', KEY, KEY_ID);
    await client.putAnchor(account, token, signAnchor(seed, account, base));
    await vault.store.putAnchor(account, { ...signAnchor(seed, account, base), source: 'photos', generation: 9 });
    expect((await client.status(account, token)).anchors.map((a) => a.source)).toEqual(['chats']);
  });
});

describe('an account enrolled before anchor keys', () => {
  it('refuses every anchor until a password login registers the key; its old anchors are dropped then', async () => {
    const account = name();
    const token = await client.enroll(account, 'pw', KEY, KEY_ID);
    // Made as by the old protocol: no anchor key, and an old MAC anchor (here a poisoned one, as a
    // token-only attacker could store before this change).
    const db = new Database(vault.dbPath!);
    db.prepare('UPDATE accounts SET anchor_key = NULL WHERE account = ?').run(account);
    db.close();
    const poisoned = { ...base, generation: Number.MAX_SAFE_INTEGER, mac: 'b'.repeat(64) } as unknown as Anchor;
    await vault.store.putAnchor(account, poisoned);
    expect(await client.status(account, token)).toMatchObject({ anchorKey: null, anchors: [] });
    const refused = await post('anchor', { account, anchor: signAnchor(seed, account, base) }, token);
    expect(refused).toMatchObject({ http: 400, body: { status: 'BAD_REQUEST' } });
    expect(refused.body.message).toContain('no anchor key yet: log in once with the password (coffer vault register-key)');
    const { sessionId } = await client.unlock(account, token, 'pw');
    await client.setAnchorKey(account, token, sessionId, anchorPublicKey(seed));
    expect(await vault.store.anchors(account)).toEqual([]); // the poisoned MAC anchor is gone
    await client.putAnchor(account, token, signAnchor(seed, account, base));
    expect((await client.status(account, token)).anchors.map((a) => a.generation)).toEqual([1]);
  });
});
