import { describe, expect, it } from 'vitest';
import { failureReason, isStorageError, StorageError } from './errors.js';

describe('StorageError identity', () => {
  it('is recognised across two copies of the package (a bundle beside node_modules)', async () => {
    // A second, separate instance of this module: what the CLI bundle and a provider package each load.
    const path = './errors.js?second-copy';
    const copy = (await import(/* @vite-ignore */ path)) as typeof import('./errors.js');
    expect(copy.StorageError).not.toBe(StorageError);
    const foreign = new copy.StorageError('TRANSIENT', 'from the other copy', { backend: 's3' });
    expect(isStorageError(foreign)).toBe(true);
    expect(isStorageError(foreign, 'TRANSIENT')).toBe(true);
    expect(isStorageError(foreign, 'NOT_FOUND')).toBe(false);
    expect(foreign instanceof StorageError).toBe(true);
    expect(copy.isStorageError(new StorageError('NOT_FOUND', 'x', { backend: 'b' }), 'NOT_FOUND')).toBe(true);
  });

  it('is not fooled by look-alikes without the brand, or with an unknown code', () => {
    const plain = Object.assign(new Error('x'), { name: 'StorageError', code: 'TRANSIENT' });
    expect(isStorageError(plain)).toBe(false);
    const badCode = Object.assign(new Error('x'), { name: 'StorageError', code: 'WHATEVER', [Symbol.for('coffer.StorageError')]: true });
    expect(isStorageError(badCode)).toBe(false);
    expect(isStorageError(null)).toBe(false);
    expect(isStorageError('StorageError')).toBe(false);
  });

  it('decides retryability where it is born, and names the provider reason for logs', () => {
    for (const code of ['RATE_LIMITED', 'TRANSIENT', 'UNREACHABLE'] as const) expect(new StorageError(code, '', { backend: 'b' }).isRetryable).toBe(true);
    for (const code of ['NOT_FOUND', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'QUOTA_EXCEEDED', 'INTEGRITY', 'INVALID_KEY', 'INVALID_ARGUMENT', 'ABORTED'] as const) {
      expect(new StorageError(code, '', { backend: 'b' }).isRetryable).toBe(false);
    }
    expect(failureReason(new StorageError('RATE_LIMITED', '', { backend: 'b', providerCode: 'SlowDown', status: 503 }))).toBe('SlowDown 503');
    expect(failureReason(new StorageError('TRANSIENT', '', { backend: 'b', providerCode: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(failureReason(new StorageError('TRANSIENT', '', { backend: 'b' }))).toBe('TRANSIENT');
  });
});
