/** Stable storage error codes. `isRetryable` is decided here, where the error is born. */
export type StorageErrorCode =
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'TRANSIENT'
  | 'INTEGRITY'
  | 'INVALID_KEY'
  | 'INVALID_ARGUMENT'
  | 'ABORTED';

const RETRYABLE: ReadonlySet<StorageErrorCode> = new Set(['RATE_LIMITED', 'TRANSIENT']);

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  readonly isRetryable: boolean;
  /** For RATE_LIMITED: how long the provider asked us to wait. */
  readonly retryAfterMs: number | undefined;
  readonly backend: string;
  readonly key: string | undefined;

  constructor(
    code: StorageErrorCode,
    message: string,
    context: { backend: string; key?: string; cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, { cause: context.cause });
    this.code = code;
    this.isRetryable = RETRYABLE.has(code);
    this.backend = context.backend;
    this.key = context.key;
    this.retryAfterMs = context.retryAfterMs;
  }
}

export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}
