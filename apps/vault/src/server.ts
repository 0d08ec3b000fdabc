import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as opaque from '@serenity-kit/opaque';
import {
  accountOnly,
  enrollFinish,
  enrollStart,
  HTTP_STATUS,
  loginAbort,
  loginFinish,
  loginStart,
  MAX_BODY_BYTES,
  passwordFinish,
  passwordStart,
  putAnchor,
  type VaultResponse,
} from '@coffer/vault-protocol';
import type { z } from 'zod';
import { RateLimiter } from './rate-limit.js';
import type { AccountRow, VaultStore } from './store/store.js';

export interface VaultServerOptions {
  readonly store: VaultStore;
  /** The OPAQUE server setup (secret): from the 0600 secrets file. */
  readonly serverSetup: string;
  readonly requestsPerIpPerMinute?: number;
  readonly loginsPerAccountPerMinute?: number;
  /** One line per request: method, path, status, milliseconds. Never bodies or tokens. */
  readonly log?: (line: string) => void;
}

const LOGIN_TTL_MS = 60_000;
const SESSION_TTL_MS = 5 * 60_000;

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
export const newToken = () => randomBytes(32).toString('base64url');

class Reply extends Error {
  constructor(readonly body: VaultResponse) {
    super(body.status);
  }
}
const fail = (status: VaultResponse['status'], extra: Omit<VaultResponse, 'status'> = {}): never => {
  throw new Reply({ status, ...extra });
};

/** Returns the request handler of the vault's /v1 HTTP API. */
export function createVaultHandler(options: VaultServerOptions) {
  const { store, serverSetup } = options;
  const logins = new Map<string, { account: string; state: string; expires: number }>();
  const sessions = new Map<string, { account: string; expires: number }>();
  const perIp = new RateLimiter(options.requestsPerIpPerMinute ?? 300);
  const perAccount = new RateLimiter(options.loginsPerAccountPerMinute ?? 30);

  const sweep = (now: number) => {
    for (const [k, v] of logins) if (v.expires < now) logins.delete(k);
    for (const [k, v] of sessions) if (v.expires < now) sessions.delete(k);
  };

  /** Every account call needs that account's token, compared by hash in constant time. */
  async function authorize(req: IncomingMessage, account: string): Promise<AccountRow> {
    const token = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
    const row = await store.getAccount(account);
    const given = Buffer.from(hashToken(token), 'hex');
    const want = Buffer.from(row?.tokenHash ?? '0'.repeat(64), 'hex');
    if (!row || !token || !timingSafeEqual(given, want)) fail('UNAUTHORIZED');
    return row!;
  }

  const triesLeft = (row: { maxAttempts: number; attempts: number }) => Math.max(0, row.maxAttempts - row.attempts);

  /** Out of tries: destroy the key material (idempotent) and say so from now on. */
  async function lockIfExhausted(account: string): Promise<void> {
    const row = await store.getAccount(account);
    if (row && (row.locked || row.attempts >= row.maxAttempts)) {
      if (!row.locked) await store.destroy(account);
      fail('LOCKED', { triesRemaining: 0 });
    }
  }

  const parse = <S extends z.ZodType>(schema: S, body: unknown): z.infer<S> => {
    const r = schema.safeParse(body);
    if (!r.success) fail('BAD_REQUEST', { message: r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
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

  const routes: Record<string, (req: IncomingMessage, body: unknown) => Promise<VaultResponse>> = {
    async 'enroll/start'(_req, body) {
      const { account, registrationRequest } = parse(enrollStart, body);
      if (await store.getAccount(account)) fail('CONFLICT', { message: `the account name "${account}" is taken` });
      const { registrationResponse } = protocol(() => opaque.server.createRegistrationResponse({ serverSetup, userIdentifier: account, registrationRequest }));
      return { status: 'OK', registrationResponse };
    },
    async 'enroll/finish'(_req, body) {
      const b = parse(enrollFinish, body);
      const token = newToken();
      const created = await store.createAccount({ account: b.account, record: b.registrationRecord, escrow: b.escrow, keyId: b.keyId, maxAttempts: b.maxAttempts, tokenHash: hashToken(token) });
      if (!created) fail('CONFLICT', { message: `the account name "${b.account}" is taken` });
      return { status: 'OK', token, maxAttempts: b.maxAttempts };
    },
    async 'login/start'(req, body) {
      const { account, startLoginRequest } = parse(loginStart, body);
      const row = await authorize(req, account);
      const wait = perAccount.take(account);
      if (wait) fail('RATE_LIMITED', { retryAfterSeconds: wait, triesRemaining: triesLeft(row) });
      if (row.locked) fail('LOCKED', { triesRemaining: 0 });
      // The attempt is counted, durably and atomically, before any answer that could test a guess.
      const counted = await store.countAttempt(account);
      if (!counted) {
        await lockIfExhausted(account);
        fail('LOCKED', { triesRemaining: 0 });
      }
      const { serverLoginState, loginResponse } = protocol(() =>
        opaque.server.startLogin({ serverSetup, registrationRecord: row.record, startLoginRequest, userIdentifier: account }),
      );
      const loginId = randomBytes(16).toString('base64url');
      logins.set(loginId, { account, state: serverLoginState, expires: Date.now() + LOGIN_TTL_MS });
      // triesRemaining: what remains if this attempt turns out wrong.
      return { status: 'OK', loginResponse, loginId, triesRemaining: counted!.maxAttempts - counted!.attempts };
    },
    async 'login/finish'(req, body) {
      const { account, loginId, finishLoginRequest } = parse(loginFinish, body);
      await authorize(req, account);
      const login = logins.get(loginId);
      logins.delete(loginId);
      if (!login || login.account !== account || login.expires < Date.now()) {
        fail('BAD_REQUEST', { message: 'unknown or expired login; start again (the attempt stays counted)' });
      }
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
      sessions.set(sessionId, { account, expires: Date.now() + SESSION_TTL_MS });
      return { status: 'OK', escrow: row.escrow, keyId: row.keyId, sessionId, triesRemaining: row.maxAttempts };
    },
    async 'login/abort'(req, body) {
      const { account, loginId } = parse(loginAbort, body);
      await authorize(req, account);
      logins.delete(loginId);
      await lockIfExhausted(account);
      const row = await store.getAccount(account);
      return { status: 'OK', triesRemaining: row ? triesLeft(row) : 0 };
    },
    async 'password/start'(req, body) {
      const { account, sessionId, registrationRequest } = parse(passwordStart, body);
      await authorize(req, account);
      const session = sessions.get(sessionId);
      if (!session || session.account !== account || session.expires < Date.now()) fail('UNAUTHORIZED', { message: 'log in with the current password first' });
      const { registrationResponse } = protocol(() => opaque.server.createRegistrationResponse({ serverSetup, userIdentifier: account, registrationRequest }));
      return { status: 'OK', registrationResponse };
    },
    async 'password/finish'(req, body) {
      const { account, sessionId, registrationRecord, escrow } = parse(passwordFinish, body);
      await authorize(req, account);
      const session = sessions.get(sessionId);
      if (!session || session.account !== account || session.expires < Date.now()) fail('UNAUTHORIZED', { message: 'log in with the current password first' });
      sessions.delete(sessionId);
      if (!(await store.replaceCredentials(account, registrationRecord, escrow))) fail('LOCKED', { triesRemaining: 0 });
      return { status: 'OK' };
    },
    async anchor(req, body) {
      const { account, anchor } = parse(putAnchor, body);
      await authorize(req, account);
      if (!(await store.putAnchor(account, anchor))) fail('CONFLICT', { message: 'a newer anchor is already stored for this source' });
      return { status: 'OK' };
    },
    async status(req, body) {
      const { account } = parse(accountOnly, body);
      const row = await authorize(req, account);
      if (row.locked) fail('LOCKED', { triesRemaining: 0 });
      return { status: 'OK', maxAttempts: row.maxAttempts, triesRemaining: triesLeft(row), keyId: row.keyId, anchors: await store.anchors(account) };
    },
    async 'token/rotate'(req, body) {
      const { account } = parse(accountOnly, body);
      await authorize(req, account);
      const token = newToken();
      await store.setTokenHash(account, hashToken(token));
      return { status: 'OK', token };
    },
  };

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    let reply: VaultResponse;
    let http = 200;
    const path = (req.url ?? '').split('?')[0]!;
    try {
      sweep(Date.now());
      if (req.method === 'GET' && path === '/healthz') {
        reply = { status: 'OK' };
      } else {
        const wait = perIp.take(req.socket.remoteAddress ?? '?');
        if (wait) fail('RATE_LIMITED', { retryAfterSeconds: wait });
        const route = path.startsWith('/v1/') ? routes[path.slice(4)] : undefined;
        if (!route || req.method !== 'POST') fail('NOT_FOUND', { message: `no route ${req.method} ${path}` });
        reply = await route!(req, await readJson(req));
      }
    } catch (err) {
      if (err instanceof Reply) reply = err.body;
      else {
        // Storage failure or a bug: no details (they could carry secrets), and not the client's fault.
        reply = { status: 'BAD_REQUEST', message: 'internal error' };
        http = 503;
        options.log?.(`error: ${(err as Error)?.message ?? err}`);
      }
    }
    if (http === 200) http = HTTP_STATUS[reply.status];
    if (reply.status === 'RATE_LIMITED') res.setHeader('retry-after', String(reply.retryAfterSeconds ?? 60));
    // A body left unread (too large) would corrupt the next request on this connection: close it.
    if (!req.complete) res.setHeader('connection', 'close');
    res.writeHead(http, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(reply));
    options.log?.(`${req.method} ${path} ${http} ${reply.status} ${Math.round(performance.now() - started)}ms`);
  };
}

/** Reads a JSON body of at most 64 KiB; anything else is BAD_REQUEST. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) fail('BAD_REQUEST', { message: `body larger than ${MAX_BODY_BYTES} bytes` });
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return fail('BAD_REQUEST', { message: 'body is not JSON' });
  }
}
