/** Stable storage error codes. `isRetryable` is decided here, where the error is born. */
export type StorageErrorCode =
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'TRANSIENT'
  | 'UNREACHABLE'
  | 'INTEGRITY'
  | 'INVALID_KEY'
  | 'INVALID_ARGUMENT'
  | 'ABORTED';

const CODES: ReadonlySet<string> = new Set<StorageErrorCode>([
  'NOT_FOUND',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
  'TRANSIENT',
  'UNREACHABLE',
  'INTEGRITY',
  'INVALID_KEY',
  'INVALID_ARGUMENT',
  'ABORTED',
]);

/** UNREACHABLE (connection refused, DNS, TLS) is retried too: a provider can come back within a call's budget. */
const RETRYABLE: ReadonlySet<StorageErrorCode> = new Set(['RATE_LIMITED', 'TRANSIENT', 'UNREACHABLE']);

/**
 * The brand every StorageError carries. A registered symbol is the same in every copy of this
 * package: the CLI bundle inlines one copy while the provider packages load another from
 * node_modules, and `instanceof` is false between two copies of a class.
 */
export const STORAGE_ERROR_BRAND: unique symbol = Symbol.for('coffer.StorageError');

export interface StorageErrorContext {
  backend: string;
  key?: string;
  cause?: unknown;
  retryAfterMs?: number;
  /** The provider's own name for the failure (SlowDown, rateLimitExceeded, ECONNRESET...), for logs. */
  providerCode?: string;
  /** The HTTP status the provider answered with, when there was one. */
  status?: number;
}

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly [STORAGE_ERROR_BRAND] = true;
  readonly code: StorageErrorCode;
  readonly isRetryable: boolean;
  /** For RATE_LIMITED and TRANSIENT: how long the provider asked us to wait (its Retry-After). */
  readonly retryAfterMs: number | undefined;
  readonly backend: string;
  readonly key: string | undefined;
  readonly providerCode: string | undefined;
  readonly status: number | undefined;

  constructor(code: StorageErrorCode, message: string, context: StorageErrorContext) {
    super(message, { cause: context.cause });
    this.code = code;
    this.isRetryable = RETRYABLE.has(code);
    this.backend = context.backend;
    this.key = context.key;
    this.retryAfterMs = context.retryAfterMs;
    this.providerCode = context.providerCode;
    this.status = context.status;
  }

  /** `x instanceof StorageError` holds for a StorageError of any copy of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isStorageError(value);
  }
}

/**
 * Whether `err` is a StorageError (of any copy of this package: checked by brand, name and code,
 * never by `instanceof`), and has `code` when one is given.
 */
export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { [STORAGE_ERROR_BRAND]?: unknown; name?: unknown; code?: unknown };
  if (e[STORAGE_ERROR_BRAND] !== true || e.name !== 'StorageError' || typeof e.code !== 'string' || !CODES.has(e.code)) return false;
  return code === undefined || e.code === code;
}

/** "SlowDown 503", "ECONNRESET", "rateLimitExceeded 403" or the code: why a call failed, for log lines. */
export function failureReason(err: StorageError): string {
  const parts = [err.providerCode, err.status].filter((p) => p !== undefined && p !== '');
  return parts.length ? parts.join(' ') : err.code;
}

/** A Retry-After header, in seconds (`3`) or an HTTP date, as milliseconds from now; undefined when absent or past. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}
