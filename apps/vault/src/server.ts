import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTP_STATUS, MAX_BODY_BYTES, type VaultResponse } from '@coffer/vault-protocol';
import { RateLimiter } from './rate-limit.js';
import { fail, Reply, StoreFailure } from './replies.js';
import { createRoutes, type Route } from './routes.js';
import type { VaultStore } from './store/store.js';

export { hashToken, newToken } from './tokens.js';

export interface VaultServerOptions {
  readonly store: VaultStore;
  /** The OPAQUE server setup (secret): from the 0600 secrets file. */
  readonly serverSetup: string;
  readonly requestsPerIpPerMinute?: number;
  readonly loginsPerAccountPerMinute?: number;
  /** One line per request: method, path, status, milliseconds. Never bodies or tokens. */
  readonly log?: (line: string) => void;
}

/** Every store failure becomes a StoreFailure, so the answer can tell 503 (database) from 500 (bug). */
function guardStore(store: VaultStore): VaultStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (err) {
          throw new StoreFailure(String(prop), { cause: err });
        }
      };
    },
  });
}

/** Names an error for the log without its message (messages can carry request data). */
function errorClass(err: unknown): string {
  const e = (err instanceof StoreFailure ? err.cause : err) as { name?: unknown; code?: unknown } | null;
  const name = typeof e?.name === 'string' ? e.name : typeof e;
  const code = typeof e?.code === 'string' && /^[A-Z0-9_]{1,40}$/.test(e.code) ? ` ${e.code}` : '';
  return err instanceof StoreFailure ? `database failure in ${err.method}: ${name}${code}` : `internal error: ${name}${code}`;
}

/** Returns the request handler of the vault's /v1 HTTP API. Its promise never rejects. */
export function createVaultHandler(options: VaultServerOptions) {
  const routes: ReadonlyMap<string, Route> = createRoutes({ ...options, store: guardStore(options.store) });
  const perIp = new RateLimiter(options.requestsPerIpPerMinute ?? 300);
  const log = (line: string) => {
    try {
      options.log?.(line);
    } catch {
      // A failing log must not fail the request.
    }
  };

  async function answer(req: IncomingMessage, path: string): Promise<VaultResponse> {
    if (req.method === 'GET' && path === '/healthz') return { status: 'OK' };
    const wait = perIp.take(req.socket?.remoteAddress ?? '?');
    if (wait) fail('RATE_LIMITED', { retryAfterSeconds: wait });
    // Own entries of a Map only: `/v1/constructor` or `/v1/__proto__` is no route.
    const route = path.startsWith('/v1/') ? routes.get(path.slice(4)) : undefined;
    if (!route || req.method !== 'POST') fail('NOT_FOUND', { message: 'no such route' });
    return route!(req, await readJson(req));
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    let path = '?';
    let reply: VaultResponse;
    try {
      path = String(req.url ?? '').split('?')[0]!;
      reply = await answer(req, path);
    } catch (err) {
      if (err instanceof Reply) reply = err.body;
      else if (err instanceof StoreFailure) {
        reply = { status: 'UNAVAILABLE', message: 'the vault database is unavailable' };
        log(`error: ${errorClass(err)}`);
      } else {
        reply = { status: 'INTERNAL_ERROR', message: 'internal error' };
        log(`error: ${errorClass(err)}`);
      }
    }
    const http = HTTP_STATUS[reply.status] ?? 500;
    try {
      if (reply.status === 'RATE_LIMITED') res.setHeader('retry-after', String(reply.retryAfterSeconds ?? 60));
      // A body left unread (too large) would corrupt the next request on this connection: close it.
      if (!req.complete) res.setHeader('connection', 'close');
      res.writeHead(http, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(reply));
    } catch (err) {
      // The answer could not be written (socket gone, or a bug): end this request, never the process.
      log(`error writing the answer: ${errorClass(err)}`);
      res.destroy();
    }
    // The path is logged only as far as it names a route: nothing a client sends is echoed raw.
    const shown = path === '/healthz' || (path.startsWith('/v1/') && routes.has(path.slice(4))) ? path : '(unknown route)';
    log(`${req.method} ${shown} ${http} ${reply.status} ${Math.round(performance.now() - started)}ms`);
  };
}

/** Reads a JSON body of at most 64 KiB; anything else is BAD_REQUEST. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) break;
      chunks.push(chunk as Buffer);
    }
  } catch {
    fail('BAD_REQUEST', { message: 'the request body could not be read' });
  }
  if (size > MAX_BODY_BYTES) fail('BAD_REQUEST', { message: `body larger than ${MAX_BODY_BYTES} bytes` });
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return fail('BAD_REQUEST', { message: 'body is not JSON' });
  }
}
