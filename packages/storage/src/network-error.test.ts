import { describe, expect, it } from 'vitest';
import { networkFailure } from './network-error.js';

const sys = (code: string, extra: object = {}) => Object.assign(new Error(`${code} something`), { code, ...extra });

describe('networkFailure', () => {
  it('names what could not be reached, wherever the SDK put the system error', () => {
    expect(networkFailure(sys('ECONNREFUSED', { address: '127.0.0.1', port: 9000 }))).toEqual({ code: 'UNREACHABLE', providerCode: 'ECONNREFUSED', what: 'connection refused to 127.0.0.1:9000' });
    // fetch: TypeError("fetch failed") with the system error as its cause
    expect(networkFailure(new TypeError('fetch failed', { cause: sys('ENOTFOUND', { hostname: 'storage.example' }) }))).toMatchObject({ code: 'UNREACHABLE', what: 'no such host storage.example' });
    // happy eyeballs: an AggregateError of one refusal per address
    expect(networkFailure(Object.assign(new AggregateError([sys('ECONNREFUSED', { address: '::1', port: 443 })]), { code: 'ECONNREFUSED' }))).toMatchObject({ code: 'UNREACHABLE' });
    expect(networkFailure(sys('CERT_HAS_EXPIRED'))).toMatchObject({ code: 'UNREACHABLE', what: 'TLS failure (CERT_HAS_EXPIRED)' });
  });

  it('a connection lost midway or a stall is TRANSIENT', () => {
    expect(networkFailure(sys('ECONNRESET'))).toMatchObject({ code: 'TRANSIENT', providerCode: 'ECONNRESET' });
    expect(networkFailure(new Error('socket hang up'))).toMatchObject({ code: 'TRANSIENT', providerCode: 'ECONNRESET' });
    expect(networkFailure(sys('ETIMEDOUT'))).toMatchObject({ code: 'TRANSIENT', providerCode: 'ETIMEDOUT' });
    expect(networkFailure(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toMatchObject({ code: 'TRANSIENT', providerCode: 'timeout' });
  });

  it('anything else is not a network failure', () => {
    expect(networkFailure(new Error('boom'))).toBeUndefined();
    expect(networkFailure(sys('ENOSPC'))).toBeUndefined();
    expect(networkFailure(undefined)).toBeUndefined();
  });
});
