import { isStorageError, networkFailure, parseRetryAfter, StorageError, type StorageErrorCode } from '@coffer/storage';

interface GaxiosLike {
  message?: string;
  code?: string | number;
  status?: number;
  response?: { status?: number; headers?: Headers | Record<string, string>; data?: unknown };
}

function header(headers: Headers | Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  return (headers as Record<string, string>)[name];
}

/** The `reason` of Drive's error body: {"error": {"errors": [{"reason": ...}], "code", "message"}}. */
export function driveReason(data: unknown): string | undefined {
  const error = (data as { error?: unknown })?.error;
  if (typeof error === 'string') return error; // OAuth token endpoint: {"error": "invalid_grant"}
  return (error as { errors?: { reason?: string }[] })?.errors?.[0]?.reason;
}

const REASONS: Record<string, StorageErrorCode> = {
  rateLimitExceeded: 'RATE_LIMITED',
  userRateLimitExceeded: 'RATE_LIMITED',
  sharingRateLimitExceeded: 'RATE_LIMITED',
  backendError: 'TRANSIENT',
  internalError: 'TRANSIENT',
  storageQuotaExceeded: 'QUOTA_EXCEEDED',
  quotaExceeded: 'QUOTA_EXCEEDED',
  dailyLimitExceeded: 'QUOTA_EXCEEDED',
  insufficientPermissions: 'PERMISSION_DENIED',
  insufficientFilePermissions: 'PERMISSION_DENIED',
  appNotAuthorizedToFile: 'PERMISSION_DENIED',
  forbidden: 'PERMISSION_DENIED',
  notFound: 'NOT_FOUND',
  authError: 'UNAUTHENTICATED',
  invalid_grant: 'UNAUTHENTICATED',
  invalid_client: 'UNAUTHENTICATED',
  unauthorized_client: 'UNAUTHENTICATED',
};

const WORDS: Partial<Record<StorageErrorCode, string>> = {
  UNAUTHENTICATED: 'Google refused the credentials (revoked or expired): run `coffer auth drive` again or check the service account',
  PERMISSION_DENIED: 'access denied',
  RATE_LIMITED: 'Google Drive asked us to slow down',
  QUOTA_EXCEEDED: 'the Google Drive storage quota is exceeded',
  TRANSIENT: 'temporary Google Drive or network failure',
  NOT_FOUND: 'not found',
};

/** Maps gaxios / fetch errors and Drive error bodies to StorageErrors; nothing from the SDK leaks past. */
export function driveError(err: unknown, backend: string, key?: string): StorageError {
  if (isStorageError(err)) return err;
  const e = (err ?? {}) as GaxiosLike;
  const status = e.response?.status ?? e.status ?? (typeof e.code === 'number' ? e.code : undefined);
  const reason = driveReason(e.response?.data);
  let code: StorageErrorCode | undefined = reason ? REASONS[reason] : undefined;
  if (!code && status !== undefined) {
    code = status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'PERMISSION_DENIED' : status === 404 ? 'NOT_FOUND' : status === 429 ? 'RATE_LIMITED' : status >= 500 ? 'TRANSIENT' : 'INVALID_ARGUMENT';
  }
  if (!code && /invalid_grant/.test(e.message ?? '')) code = 'UNAUTHENTICATED';
  // No HTTP status at all: the network failed (refused, DNS, TLS, reset, timeout).
  const network = status === undefined ? networkFailure(err) : undefined;
  if (!code && network) {
    const text = network.code === 'UNREACHABLE' ? `cannot reach Google Drive (${network.what})` : `temporary network failure (${network.what})${key ? ` for ${key}` : ''}`;
    return new StorageError(network.code, `${backend}: ${text}`, { backend, key, cause: err, providerCode: network.providerCode });
  }
  // gaxios ends a request that passed its `timeout` with a bare AbortError (a caller's own abort
  // is reported before this mapping): a stalled request, retried.
  if (!code && status === undefined && isAbort(err)) {
    return new StorageError('TRANSIENT', `${backend}: Google Drive did not answer in time${key ? ` for ${key}` : ''} (timeout)`, { backend, key, cause: err, providerCode: 'timeout' });
  }
  code ??= 'TRANSIENT';
  const detail = reason ? ` (${reason}${status ? ` ${status}` : ''})` : status ? ` (HTTP ${status})` : '';
  return new StorageError(code, `${backend}: ${WORDS[code] ?? code.toLowerCase()}${key ? ` for ${key}` : ''}${detail}`, {
    backend,
    key,
    cause: err,
    providerCode: reason,
    status,
    retryAfterMs: parseRetryAfter(header(e.response?.headers, 'retry-after')),
  });
}

function isAbort(err: unknown): boolean {
  for (let e = err as { name?: string; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) if (e.name === 'AbortError') return true;
  return false;
}
