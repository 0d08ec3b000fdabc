import { parseRetryAfter } from '@coffer/storage';
import { describe, expect, it } from 'vitest';
import { s3Error } from './errors.js';

const aws = (name: string, status?: number, headers: Record<string, string> = {}) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, $response: { headers } });

describe('s3Error', () => {
  it('keeps the provider reason, status and Retry-After for logs and backoff', () => {
    expect(s3Error(aws('SlowDown', 503, { 'retry-after': '3' }), 's3', 'k')).toMatchObject({ code: 'RATE_LIMITED', isRetryable: true, providerCode: 'SlowDown', status: 503, retryAfterMs: 3000 });
    expect(s3Error(aws('InternalError', 500), 's3')).toMatchObject({ code: 'TRANSIENT', isRetryable: true, providerCode: 'InternalError' });
  });

  it('permanent errors are not retryable', () => {
    expect(s3Error(aws('AccessDenied', 403), 's3', 'k')).toMatchObject({ code: 'PERMISSION_DENIED', isRetryable: false });
    expect(s3Error(aws('NoSuchBucket', 404), 's3', 'k')).toMatchObject({ code: 'NOT_FOUND', isRetryable: false, message: 's3: the bucket does not exist for k (NoSuchBucket 404)' });
  });

  it('a refused connection says it cannot reach s3, naming the address; a reset is a network failure', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED', address: '127.0.0.1', port: 9000, $metadata: {} });
    expect(s3Error(refused, 's3:x', 'k')).toMatchObject({ code: 'UNREACHABLE', isRetryable: true, message: 's3:x: cannot reach s3 (connection refused to 127.0.0.1:9000)' });
    // The SDK renames a reset socket "TimeoutError": the code underneath is what happened.
    const reset = Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: {} });
    expect(s3Error(reset, 's3', 'k')).toMatchObject({ code: 'TRANSIENT', providerCode: 'ECONNRESET' });
  });

  it('Retry-After in seconds or as an HTTP date', () => {
    const now = Date.parse('2026-12-04T12:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Fri, 04 Dec 2026 12:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('0', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
