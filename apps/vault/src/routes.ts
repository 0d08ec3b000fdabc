import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import * as opaque from '@serenity-kit/opaque';
import {
  accountOnly,
  enrollFinish,
  enrollStart,
  isAnchorKey,
  isRegistrationRecord,
  loginAbort,
  loginFinish,
  loginStart,
  passwordFinish,
  passwordStart,
  putAnchor,
  setAnchorKey,
  verifyAnchor,
  type VaultResponse,
} from '@coffer/vault-protocol';
import type { z } from 'zod';
import { BoundedMap } from './bounded-map.js';
import { RateLimiter } from './rate-limit.js';
import { fail } from './replies.js';
import { hashToken, newToken, tokenMatches } from './tokens.js';
import type { AccountRow, VaultStore } from './store/store.js';

export type Route = (req: IncomingMessage, body: unknown) => Promise<VaultResponse>;

export interface RouteOptions {
  readonly store: VaultStore;
  readonly serverSetup: string;
  readonly loginsPerAccountPerMinute?: number;
}

const LOGIN_TTL_MS = 60_000;
const SESSION_TTL_MS = 5 * 60_000;
const ENROLL_TTL_MS = 5 * 60_000;
/** Bounds on in-memory protocol state: a flood forgets the oldest entries, never grows memory. */
const MAX_PENDING = 10_000;

const parse = <S extends z.ZodType>(schema: S, body: unknown): z.infer<S> => {
  const r = schema.safeParse(body);
  if (!r.success) fail('BAD_REQUEST', { message: r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ').slice(0, 500) });
  return r.data as z.infer<S>;
};

/** OPAQUE throws on malformed messages: that is bad input, never a server error. */
const protocol = <T>(fn: () => T): T => {
  try {
    return fn();
  } catch {
    return fail('BAD_REQUEST', { message: 'malformed OPAQUE message' });
  }
};

const triesLeft = (row: { maxAttempts: number; attempts: number }) => Math.max(0, row.maxAttempts - row.attempts);

/** The /v1 routes, as own entries of a Map (never an object: `constructor` is not a route). */
export function createRoutes(options: RouteOptions): ReadonlyMap<string, Route> {
  const { store, serverSetup } = options;
  const logins = new BoundedMap<{ account: string; state: string }>(LOGIN_TTL_MS, MAX_PENDING);
  const sessions = new BoundedMap<{ account: string }>(SESSION_TTL_MS, MAX_PENDING);
  const enrolments = new BoundedMap<{ account: string }>(ENROLL_TTL_MS, MAX_PENDING);
  const perAccount = new RateLimiter(options.loginsPerAccountPerMinute ?? 30);

  /** Every account call needs that account's token, compared by hash in constant time. */
  async function authorize(req: IncomingMessage, account: string): Promise<AccountRow> {
    const token = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
    const row = await store.getAccount(account);
    if (!tokenMatches(token, row?.tokenHash)) fail('UNAUTHORIZED');
    return row!;
  }

  /** Out of tries: destroy the key material (idempotent) and say so from now on. */
  async function lockIfExhausted(account: string): Promise<void> {
    const row = await store.getAccount(account);
    if (row && (row.locked || row.attempts >= row.maxAttempts)) {
      if (!row.locked) await store.destroy(account);
      fail('LOCKED', { triesRemaining: 0 });
    }
  }

  function session(account: string, sessionId: string): void {
    if (sessions.get(sessionId)?.account !== account) fail('UNAUTHORIZED', { message: 'log in with the password first (no session, or it expired)' });
  }

  return new Map<string, Route>([
    [
      'enroll/start',
      async (_req, body) => {
        const { account, registrationRequest } = parse(enrollStart, body);
        if (await store.getAccount(account)) fail('CONFLICT', { message: `the account name "${account}" is taken` });
        const { registrationResponse } = protocol(() => opaque.server.createRegistrationResponse({ serverSetup, userIdentifier: account, registrationRequest }));
        const enrollId = randomBytes(16).toString('base64url');
        enrolments.set(enrollId, { account });
        return { status: 'OK', registrationResponse, enrollId };
      },
    ],
    [
      'enroll/finish',
      async (_req, body) => {
        const b = parse(enrollFinish, body);
        // Why: a name is taken for good, so only a started enrolment with a real record may take it.
        if (enrolments.take(b.enrollId)?.account !== b.account) fail('BAD_REQUEST', { message: 'unknown or expired enrolment; start again with enroll/start' });
        if (!isRegistrationRecord(b.registrationRecord)) fail('BAD_REQUEST', { message: 'registrationRecord is not an OPAQUE registration record' });
        if (!isAnchorKey(b.anchorKey)) fail('BAD_REQUEST', { message: 'anchorKey is not an Ed25519 public key' });
        const token = newToken();
        const created = await store.createAccount({ account: b.account, record: b.registrationRecord, escrow: b.escrow, keyId: b.keyId, maxAttempts: b.maxAttempts, tokenHash: hashToken(token), anchorKey: b.anchorKey });
        if (!created) fail('CONFLICT', { message: `the account name "${b.account}" is taken` });
        return { status: 'OK', token, maxAttempts: b.maxAttempts };
      },
    ],
    [
      'login/start',
      async (req, body) => {
        const { account, startLoginRequest } = parse(loginStart, body);
        const row = await authorize(req, account);
        const wait = perAccount.take(account);
        if (wait) fail('RATE_LIMITED', { retryAfterSeconds: wait, triesRemaining: triesLeft(row) });
        if (row.locked) fail('LOCKED', { triesRemaining: 0 });
        // The answer is computed first: a request OPAQUE rejects can never test a password, so it
        // costs no attempt. Nothing is sent before the attempt is counted.
        const { serverLoginState, loginResponse } = protocol(() =>
          opaque.server.startLogin({ serverSetup, registrationRecord: row.record, startLoginRequest, userIdentifier: account }),
        );
        // The attempt is counted, durably and atomically, before any answer that could test a guess.
        const counted = await store.countAttempt(account);
        if (!counted) {
          await lockIfExhausted(account);
          fail('LOCKED', { triesRemaining: 0 });
        }
        const loginId = randomBytes(16).toString('base64url');
        logins.set(loginId, { account, state: serverLoginState });
        // triesRemaining: what remains if this attempt turns out wrong.
        return { status: 'OK', loginResponse, loginId, triesRemaining: counted!.maxAttempts - counted!.attempts };
      },
    ],
    [
      'login/finish',
      async (req, body) => {
        const { account, loginId, finishLoginRequest } = parse(loginFinish, body);
        await authorize(req, account);
        const login = logins.take(loginId);
        if (login?.account !== account) fail('BAD_REQUEST', { message: 'unknown or expired login; start again (the attempt stays counted)' });
        let ok = true;
        try {
          opaque.server.finishLogin({ serverLoginState: login!.state, finishLoginRequest });
        } catch {
          ok = false;
        }
        if (!ok) {
          await lockIfExhausted(account);
          const row = await store.getAccount(account);
          fail('WRONG_PASSWORD', { triesRemaining: row ? triesLeft(row) : 0 });
        }
        await store.resetAttempts(account);
        const row = (await store.getAccount(account))!;
        const sessionId = randomBytes(24).toString('base64url');
        sessions.set(sessionId, { account });
        return { status: 'OK', escrow: row.escrow, keyId: row.keyId, sessionId, triesRemaining: row.maxAttempts };
      },
    ],
    [
      'login/abort',
      async (req, body) => {
        const { account, loginId } = parse(loginAbort, body);
        await authorize(req, account);
        if (logins.get(loginId)?.account === account) logins.take(loginId);
        await lockIfExhausted(account);
        const row = await store.getAccount(account);
        return { status: 'OK', triesRemaining: row ? triesLeft(row) : 0 };
      },
    ],
    [
      'password/start',
      async (req, body) => {
        const { account, sessionId, registrationRequest } = parse(passwordStart, body);
        await authorize(req, account);
        session(account, sessionId);
        const { registrationResponse } = protocol(() => opaque.server.createRegistrationResponse({ serverSetup, userIdentifier: account, registrationRequest }));
        return { status: 'OK', registrationResponse };
      },
    ],
    [
      'password/finish',
      async (req, body) => {
        const { account, sessionId, registrationRecord, escrow } = parse(passwordFinish, body);
        await authorize(req, account);
        session(account, sessionId);
        if (!isRegistrationRecord(registrationRecord)) fail('BAD_REQUEST', { message: 'registrationRecord is not an OPAQUE registration record' });
        sessions.take(sessionId);
        if (!(await store.replaceCredentials(account, registrationRecord, escrow))) fail('LOCKED', { triesRemaining: 0 });
        return { status: 'OK' };
      },
    ],
    [
      'anchor-key',
      async (req, body) => {
        const { account, sessionId, anchorKey } = parse(setAnchorKey, body);
        await authorize(req, account);
        // Why a session: whoever sets this key decides which anchors are accepted; a token is not enough.
        session(account, sessionId);
        if (!isAnchorKey(anchorKey)) fail('BAD_REQUEST', { message: 'anchorKey is not an Ed25519 public key' });
        if (!(await store.setAnchorKey(account, anchorKey))) fail('UNAUTHORIZED');
        return { status: 'OK' };
      },
    ],
    [
      'anchor',
      async (req, body) => {
        const { account, anchor } = parse(putAnchor, body);
        const row = await authorize(req, account);
        // Why: a token alone must not be able to store an anchor (a huge generation would block every
        // later backup; one that does not verify would block every restore). Only the key signs.
        if (!row.anchorKey) fail('BAD_REQUEST', { message: 'this account has no anchor key yet: log in once with the password (coffer vault register-key) to register it' });
        if (!verifyAnchor(row.anchorKey!, account, anchor)) fail('BAD_REQUEST', { message: "the anchor's signature does not verify with this account's anchor key" });
        if (!(await store.putAnchor(account, anchor))) fail('CONFLICT', { message: 'a newer anchor is already stored for this source' });
        return { status: 'OK' };
      },
    ],
    [
      'status',
      async (req, body) => {
        const { account } = parse(accountOnly, body);
        const row = await authorize(req, account);
        if (row.locked) fail('LOCKED', { triesRemaining: 0 });
        const anchors = row.anchorKey ? (await store.anchors(account)).filter((a) => verifyAnchor(row.anchorKey!, account, a)) : [];
        return { status: 'OK', maxAttempts: row.maxAttempts, triesRemaining: triesLeft(row), keyId: row.keyId, anchorKey: row.anchorKey, anchors };
      },
    ],
    [
      'token/rotate',
      async (req, body) => {
        const { account } = parse(accountOnly, body);
        await authorize(req, account);
        const token = newToken();
        await store.setTokenHash(account, hashToken(token));
        return { status: 'OK', token };
      },
    ],
  ]);
}
