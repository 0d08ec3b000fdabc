import { isStorageError, networkFailure, parseRetryAfter, StorageError, type StorageErrorCode } from '@coffer/storage';

interface AwsLikeError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string> };
}

const BY_NAME: Record<string, StorageErrorCode> = {
  NoSuchKey: 'NOT_FOUND',
  NotFound: 'NOT_FOUND',
  NoSuchBucket: 'NOT_FOUND',
  AccessDenied: 'PERMISSION_DENIED',
  AllAccessDisabled: 'PERMISSION_DENIED',
  InvalidAccessKeyId: 'UNAUTHENTICATED',
  SignatureDoesNotMatch: 'UNAUTHENTICATED',
  ExpiredToken: 'UNAUTHENTICATED',
  TokenRefreshRequired: 'UNAUTHENTICATED',
  CredentialsProviderError: 'UNAUTHENTICATED',
  SlowDown: 'RATE_LIMITED',
  TooManyRequests: 'RATE_LIMITED',
  RequestLimitExceeded: 'RATE_LIMITED',
  Throttling: 'RATE_LIMITED',
  ThrottlingException: 'RATE_LIMITED',
  QuotaExceeded: 'QUOTA_EXCEEDED',
  EntityTooLarge: 'QUOTA_EXCEEDED',
  InternalError: 'TRANSIENT',
  ServiceUnavailable: 'TRANSIENT',
  RequestTimeout: 'TRANSIENT',
  TimeoutError: 'TRANSIENT',
  BadDigest: 'INTEGRITY',
  InvalidDigest: 'INTEGRITY',
  AbortError: 'ABORTED',
};

const WORDS: Record<StorageErrorCode, string> = {
  NOT_FOUND: 'not found',
  UNAUTHENTICATED: 'the credentials were refused (expired, revoked or wrong)',
  PERMISSION_DENIED: 'access denied',
  RATE_LIMITED: 'the provider asked us to slow down',
  QUOTA_EXCEEDED: 'storage quota exceeded',
  TRANSIENT: 'temporary provider or network failure',
  UNREACHABLE: 'cannot reach s3',
  INTEGRITY: 'the provider reports the data arrived damaged',
  INVALID_KEY: 'invalid key',
  INVALID_ARGUMENT: 'invalid request',
  ABORTED: 'aborted',
};

/** Turns AWS SDK errors into StorageErrors at the boundary; SDK errors never leak past the backend. */
export function s3Error(err: unknown, backend: string, key?: string): StorageError {
  if (isStorageError(err)) return err;
  const e = (err ?? {}) as AwsLikeError;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name && e.name !== 'Error' && e.name !== 'TypeError' ? e.name : undefined;
  // Only a request that got no HTTP answer failed in the network. (The SDK renames a reset
  // socket "TimeoutError"; the system code underneath says what happened.)
  const network = status === undefined ? networkFailure(err) : undefined;
  if (network) {
    const text = network.code === 'UNREACHABLE' ? `cannot reach s3 (${network.what})` : `temporary network failure (${network.what})${key ? ` for ${key}` : ''}`;
    return new StorageError(network.code, `${backend}: ${text}`, { backend, key, cause: err, providerCode: network.providerCode });
  }
  let code: StorageErrorCode | undefined = BY_NAME[name ?? ''] ?? BY_NAME[e.code ?? ''];
  if (!code && status !== undefined) {
    code = status === 404 ? 'NOT_FOUND' : status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'PERMISSION_DENIED' : status === 429 || status === 503 ? 'RATE_LIMITED' : status >= 500 ? 'TRANSIENT' : 'INVALID_ARGUMENT';
  }
  code ??= 'TRANSIENT';
  const providerCode = name && name !== 'Unknown' ? name : e.code && /^[A-Z_]+$/.test(e.code) ? e.code : undefined;
  const detail = providerCode ? ` (${providerCode}${status ? ` ${status}` : ''})` : status ? ` (HTTP ${status})` : '';
  const what = name === 'NoSuchBucket' ? 'the bucket does not exist' : WORDS[code];
  return new StorageError(code, `${backend}: ${what}${key ? ` for ${key}` : ''}${detail}`, {
    backend,
    key,
    cause: err,
    providerCode,
    status,
    retryAfterMs: parseRetryAfter(e.$response?.headers?.['retry-after']),
  });
}
