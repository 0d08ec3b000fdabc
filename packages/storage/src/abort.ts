import { isStorageError, StorageError } from './errors.js';

export function abortedError(backend: string, key?: string): StorageError {
  return new StorageError('ABORTED', `upload${key ? ` of ${key}` : ''} was aborted`, { backend, key });
}

export function throwIfAborted(signal: AbortSignal | undefined, backend: string, key?: string): void {
  if (signal?.aborted) throw abortedError(backend, key);
}

/** A failing body stream aborts the upload; retrying cannot help, since the body is read once. */
export function bodyError(err: unknown, backend: string, key: string): StorageError {
  if (isStorageError(err)) return err;
  return new StorageError('ABORTED', `upload of ${key} failed because its source stream failed: ${(err as Error)?.message ?? err}`, {
    backend,
    key,
    cause: err,
  });
}
