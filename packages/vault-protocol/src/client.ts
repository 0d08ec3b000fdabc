import * as opaque from '@serenity-kit/opaque';
import { deriveKeyMaterial } from '@coffer/crypto';
import { anchorPublicKey } from './anchor.js';
import { sealEscrow, openEscrow } from './escrow.js';
import { KEY_STRETCHING } from './key-stretching.js';
import type { Anchor, VaultResponse, VaultStatus } from './schemas.js';

/** A vault answer other than OK, with what the person needs to know. */
export class VaultError extends Error {
  override readonly name = 'VaultError';
  constructor(
    readonly status: VaultStatus | 'UNREACHABLE' | 'PROTOCOL' | 'BAD_URL',
    message: string,
    readonly triesRemaining?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));

export interface UnlockResult {
  readonly backupKey: Uint8Array;
  /** Lets this client change the password within a few minutes, without a second login. */
  readonly sessionId: string;
  readonly exportKey: Uint8Array;
}

export interface VaultAccountStatus {
  readonly maxAttempts: number;
  readonly triesRemaining: number;
  readonly keyId: string;
  /** The registered anchor key (base64url), or null for an account enrolled before anchor keys. */
  readonly anchorKey: string | null;
  readonly anchors: Anchor[];
}

/** Refuses a vault URL that carries a user name or password, without repeating either. */
export function checkVaultUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new VaultError('BAD_URL', 'the vault URL is not a valid URL');
  }
  if (parsed.username || parsed.password) {
    throw new VaultError('BAD_URL', 'the vault URL must not contain a user name or password (the access token belongs in tokenFile)');
  }
  return url.replace(/\/+$/, '');
}

/** Speaks /v1 to a Coffer vault. The password never leaves this object: OPAQUE keeps it local. */
export class VaultClient {
  private readonly base: string;

  constructor(url: string, private readonly fetchImpl: typeof fetch = fetch) {
    // Why: a URL with credentials would be echoed in every error message below.
    this.base = checkVaultUrl(url);
  }

  private async call(path: string, body: unknown, token?: string): Promise<VaultResponse> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.base}/v1/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    } catch (err) {
      throw new VaultError('UNREACHABLE', `the vault at ${this.base} cannot be reached: ${(err as Error).message}`, undefined, { cause: err });
    }
    const data = (await res.json().catch(() => null)) as VaultResponse | null;
    if (!data || typeof data.status !== 'string') throw new VaultError('PROTOCOL', `the vault at ${this.base} answered HTTP ${res.status} without a Coffer response`);
    if (data.status !== 'OK') throw this.explain(data);
    return data;
  }

  private explain(r: VaultResponse): VaultError {
    const tries = r.triesRemaining;
    const messages: Record<string, string> = {
      WRONG_PASSWORD: `wrong password; ${tries} ${tries === 1 ? 'try remains' : 'tries remain'} before the vault destroys the key`,
      LOCKED: 'too many wrong passwords: the vault has destroyed this key for good; only the 64-digit backup key can read the backups now',
      UNAUTHORIZED: r.message ?? 'the vault refused the access token (revoked or wrong); ask the vault operator for a new one',
      UNAVAILABLE: 'the vault cannot reach its database right now; try again later',
      INTERNAL_ERROR: 'the vault failed with an internal error; its operator can find it in the vault log',
      RATE_LIMITED: `too many requests; try again in ${r.retryAfterSeconds ?? 60} s`,
      NOT_FOUND: 'no such account in the vault',
      CONFLICT: r.message ?? 'conflict',
      BAD_REQUEST: `the vault rejected the request: ${r.message ?? 'bad request'}`,
    };
    return new VaultError(r.status, messages[r.status] ?? r.status, tries);
  }

  /** Claims `account` (first come), escrows the backup key behind the password. Returns the access token. */
  async enroll(account: string, password: string, backupKey: Uint8Array, keyId: string, maxAttempts?: number): Promise<string> {
    await opaque.ready;
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password });
    const start = await this.call('enroll/start', { account, registrationRequest });
    const { registrationRecord, exportKey } = opaque.client.finishRegistration({ clientRegistrationState, registrationResponse: start.registrationResponse as string, password, keyStretching: KEY_STRETCHING });
    const escrow = sealEscrow(b64(exportKey), account, keyId, backupKey);
    const anchorKey = anchorPublicKey(deriveKeyMaterial(backupKey).anchorSigningKey);
    const finish = await this.call('enroll/finish', { account, enrollId: start.enrollId, registrationRecord, escrow, keyId, maxAttempts, anchorKey });
    return finish.token as string;
  }

  /** Logs in with the password and recovers the backup key. Every try counts against the limit. */
  async unlock(account: string, token: string, password: string): Promise<UnlockResult> {
    await opaque.ready;
    const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password });
    const start = await this.call('login/start', { account, startLoginRequest }, token);
    const loginId = start.loginId as string;
    const finished = opaque.client.finishLogin({ clientLoginState, loginResponse: start.loginResponse as string, password, keyStretching: KEY_STRETCHING });
    if (!finished) {
      // OPAQUE lets the client see a wrong password itself; tell the vault so a last try locks at once.
      const abort = await this.call('login/abort', { account, loginId }, token).catch((e: unknown) => e);
      if (abort instanceof VaultError && abort.status === 'LOCKED') throw abort;
      const left = start.triesRemaining as number;
      if (left <= 0) throw this.explain({ status: 'LOCKED' });
      throw this.explain({ status: 'WRONG_PASSWORD', triesRemaining: left });
    }
    const done = await this.call('login/finish', { account, loginId, finishLoginRequest: finished.finishLoginRequest }, token);
    const exportKey = b64(finished.exportKey);
    const backupKey = openEscrow(exportKey, account, done.keyId as string, done.escrow as string);
    // The vault (or its database) altered or swapped the escrow: no key, and say so.
    if (!backupKey) throw new VaultError('PROTOCOL', 'the vault returned an escrowed key that does not authenticate for this account: it was altered');
    return { backupKey, sessionId: done.sessionId as string, exportKey };
  }

  /** Re-registers under a new password with the same backup key: backups need no re-encryption. */
  async changePassword(account: string, token: string, oldPassword: string, newPassword: string, keyId: string): Promise<void> {
    const { backupKey, sessionId } = await this.unlock(account, token, oldPassword);
    const { clientRegistrationState, registrationRequest } = opaque.client.startRegistration({ password: newPassword });
    const start = await this.call('password/start', { account, sessionId, registrationRequest }, token);
    const { registrationRecord, exportKey } = opaque.client.finishRegistration({ clientRegistrationState, registrationResponse: start.registrationResponse as string, password: newPassword, keyStretching: KEY_STRETCHING });
    const escrow = sealEscrow(b64(exportKey), account, keyId, backupKey);
    await this.call('password/finish', { account, sessionId, registrationRecord, escrow }, token);
    backupKey.fill(0);
  }

  async putAnchor(account: string, token: string, anchor: Anchor): Promise<void> {
    await this.call('anchor', { account, anchor }, token);
  }

  async status(account: string, token: string): Promise<VaultAccountStatus> {
    const r = await this.call('status', { account }, token);
    return { maxAttempts: r.maxAttempts as number, triesRemaining: r.triesRemaining as number, keyId: r.keyId as string, anchorKey: (r.anchorKey as string | null) ?? null, anchors: r.anchors as Anchor[] };
  }

  /** Registers the anchor key; needs the session of a password login (PROTOCOL.md). */
  async setAnchorKey(account: string, token: string, sessionId: string, anchorKey: string): Promise<void> {
    await this.call('anchor-key', { account, sessionId, anchorKey }, token);
  }

  /** Replaces the access token; the old one stops working at once. */
  async rotateToken(account: string, token: string): Promise<string> {
    return (await this.call('token/rotate', { account }, token)).token as string;
  }
}
