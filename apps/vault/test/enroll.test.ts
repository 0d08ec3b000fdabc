import * as opaque from '@serenity-kit/opaque';
import { anchorPublicKey, VaultClient } from '@coffer/vault-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVault, type TestVault } from './harness.js';

const KEY = new Uint8Array(32).fill(3);
const KEY_ID = '0011223344556677';
const ANCHOR_KEY = anchorPublicKey(new Uint8Array(32).fill(4));
let n = 0;
const name = () => `enroll-${process.pid}-${++n}`;

let vault: TestVault;
let client: VaultClient;
beforeAll(async () => {
  vault = await startVault();
  client = new VaultClient(vault.url);
  await opaque.ready;
});
afterAll(() => vault.close());

async function post(path: string, body: unknown, token?: string) {
  const res = await fetch(`${vault.url}/v1/${path}`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {}, body: JSON.stringify(body) });
  return { http: res.status, body: (await res.json()) as { status: string; message?: string; enrollId?: string; registrationResponse?: string } };
}

/** A real enroll/start, and the record a real client would make from it. */
async function started(account: string) {
  const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password: 'pw' });
  const start = await post('enroll/start', { account, registrationRequest });
  const { registrationRecord } = opaque.client.finishRegistration({ clientRegistrationState, registrationResponse: start.body.registrationResponse!, password: 'pw' });
  return { enrollId: start.body.enrollId!, registrationRecord };
}

const finish = (account: string, enrollId: string, registrationRecord: string) =>
  post('enroll/finish', { account, enrollId, registrationRecord, escrow: 'AAAA', keyId: KEY_ID, anchorKey: ANCHOR_KEY });

describe('enrolment takes a name only with a real OPAQUE registration', () => {
  it('enroll/finish without enroll/start is refused, and the name stays free', async () => {
    const account = name();
    const { registrationRecord } = await started(name());
    for (const enrollId of ['AAAA', 'bm90LWFuLWlk']) {
      expect(await finish(account, enrollId, registrationRecord)).toMatchObject({ http: 400, body: { status: 'BAD_REQUEST', message: 'unknown or expired enrolment; start again with enroll/start' } });
    }
    expect(await vault.store.getAccount(account)).toBeNull();
    await client.enroll(account, 'pw', KEY, KEY_ID);
  });

  it('a garbage registration record is refused after a real start, and the name stays free', async () => {
    const account = name();
    const real = await started(account);
    const bytes = Buffer.from(real.registrationRecord, 'base64url');
    for (const garbage of ['AAAA', Buffer.alloc(192).toString('base64url'), Buffer.alloc(192, 0xff).toString('base64url'), bytes.subarray(0, 100).toString('base64url'), Buffer.concat([Buffer.alloc(32, 0x11), bytes.subarray(32)]).toString('base64url')]) {
      const { enrollId } = await started(account);
      expect(await finish(account, enrollId, garbage)).toMatchObject({ http: 400, body: { status: 'BAD_REQUEST', message: 'registrationRecord is not an OPAQUE registration record' } });
    }
    expect(await vault.store.getAccount(account)).toBeNull();
    expect(await finish(account, real.enrollId, real.registrationRecord)).toMatchObject({ http: 200, body: { status: 'OK' } });
  });

  it('an enrolment id works once, for its own account only', async () => {
    const [a, b] = [name(), name()];
    const s = await started(a);
    expect((await finish(b, s.enrollId, s.registrationRecord)).body.status).toBe('BAD_REQUEST');
    const again = await started(a);
    expect((await finish(a, again.enrollId, again.registrationRecord)).body.status).toBe('OK');
    expect((await finish(a, again.enrollId, again.registrationRecord)).body.status).toBe('BAD_REQUEST');
  });

  it('an anchor key that is not an Ed25519 point is refused', async () => {
    const account = name();
    const s = await started(account);
    const r = await post('enroll/finish', { account, enrollId: s.enrollId, registrationRecord: s.registrationRecord, escrow: 'AAAA', keyId: KEY_ID, anchorKey: Buffer.alloc(32).toString('base64url') });
    expect(r).toMatchObject({ http: 400, body: { status: 'BAD_REQUEST' } });
    expect(await vault.store.getAccount(account)).toBeNull();
  });
});

describe('a login/start OPAQUE rejects costs no attempt', () => {
  it('malformed start messages are BAD_REQUEST and leave the count alone; a real one counts', async () => {
    const account = name();
    const token = await client.enroll(account, 'pw', KEY, KEY_ID, 3);
    const real = opaque.client.startLogin({ password: 'guess' }).startLoginRequest;
    const malformed = ['AAAA', Buffer.alloc(96, 0xff).toString('base64url'), Buffer.from(real, 'base64url').subarray(0, 40).toString('base64url'), Buffer.alloc(96).toString('base64url')];
    for (const startLoginRequest of malformed) {
      expect(await post('login/start', { account, startLoginRequest }, token)).toMatchObject({ http: 400, body: { status: 'BAD_REQUEST', message: 'malformed OPAQUE message' } });
    }
    expect((await vault.store.getAccount(account))!.attempts).toBe(0);
    expect((await post('login/start', { account, startLoginRequest: real }, token)).body.status).toBe('OK');
    expect((await vault.store.getAccount(account))!.attempts).toBe(1);
  });
});

describe('a password change needs a real registration record too', () => {
  it('a garbage record in password/finish is refused and the old password keeps working', async () => {
    const account = name();
    const token = await client.enroll(account, 'old', KEY, KEY_ID);
    const { sessionId } = await client.unlock(account, token, 'old');
    const r = await post('password/finish', { account, sessionId, registrationRecord: Buffer.alloc(192).toString('base64url'), escrow: 'AAAA' }, token);
    expect(r).toMatchObject({ http: 400, body: { status: 'BAD_REQUEST', message: 'registrationRecord is not an OPAQUE registration record' } });
    expect(Buffer.from((await client.unlock(account, token, 'old')).backupKey).equals(Buffer.from(KEY))).toBe(true);
  });
});
