import type { StorageErrorCode } from './errors.js';

export interface NetworkFailure {
  readonly code: StorageErrorCode;
  /** The system's name for it: ECONNREFUSED, ENOTFOUND, ECONNRESET, CERT_HAS_EXPIRED... */
  readonly providerCode: string;
  /** What happened, in words: "connection refused to 127.0.0.1:9000". */
  readonly what: string;
}

interface SystemErrorLike {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  cause?: unknown;
  errors?: unknown;
}

const TLS = /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/** The errors to look at: the error, its causes (fetch wraps them), and an AggregateError's members. */
function* chain(err: unknown): Iterable<SystemErrorLike> {
  const seen = new Set<unknown>();
  const queue = [err];
  while (queue.length) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    yield e as SystemErrorLike;
    queue.push((e as SystemErrorLike).cause);
    if (Array.isArray((e as SystemErrorLike).errors)) queue.push(...((e as SystemErrorLike).errors as unknown[]));
  }
}

/**
 * Recognises a failure to reach a provider, or a connection lost midway, from Node's system
 * errors wherever the SDK put them. UNREACHABLE (refused, no such host, no route, TLS) and
 * TRANSIENT (reset, timeout) are both retried; they differ in what the user is told.
 */
export function networkFailure(err: unknown): NetworkFailure | undefined {
  for (const e of chain(err)) {
    const code = typeof e.code === 'string' ? e.code : '';
    const at = typeof e.address === 'string' ? `${e.address}${e.port !== undefined ? `:${e.port}` : ''}` : '';
    const host = typeof e.hostname === 'string' ? e.hostname : at;
    switch (code) {
      case 'ECONNREFUSED':
        return { code: 'UNREACHABLE', providerCode: code, what: `connection refused${at ? ` to ${at}` : ''}` };
      case 'ENOTFOUND':
        return { code: 'UNREACHABLE', providerCode: code, what: `no such host${host ? ` ${host}` : ''}` };
      case 'EAI_AGAIN':
        return { code: 'UNREACHABLE', providerCode: code, what: `DNS lookup${host ? ` of ${host}` : ''} failed` };
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return { code: 'UNREACHABLE', providerCode: code, what: `no route to ${at || 'the host'}` };
      case 'ECONNRESET':
      case 'EPIPE':
      case 'ECONNABORTED':
      case 'UND_ERR_SOCKET':
        return { code: 'TRANSIENT', providerCode: 'ECONNRESET', what: 'the connection was reset' };
      case 'ETIMEDOUT':
      case 'UND_ERR_CONNECT_TIMEOUT':
        return { code: 'TRANSIENT', providerCode: 'ETIMEDOUT', what: `the request${at ? ` to ${at}` : ''} timed out` };
      case 'UND_ERR_HEADERS_TIMEOUT':
      case 'UND_ERR_BODY_TIMEOUT':
        return { code: 'TRANSIENT', providerCode: 'timeout', what: 'the provider stopped answering (timed out)' };
      default:
        if (TLS.test(code)) return { code: 'UNREACHABLE', providerCode: code, what: `TLS failure (${code})` };
    }
    if (e.name === 'TimeoutError') return { code: 'TRANSIENT', providerCode: 'timeout', what: 'the provider stopped answering (timed out)' };
    if (typeof e.message === 'string' && /socket hang up|other side closed|premature close/i.test(e.message)) {
      return { code: 'TRANSIENT', providerCode: 'ECONNRESET', what: 'the connection was reset' };
    }
  }
  return undefined;
}
