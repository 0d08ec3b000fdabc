import { describe, expect, it } from 'vitest';
import { LoggingBackend, MemoryBackend, RetryingBackend, StorageError, type StorageBackend, type StorageLogEvent } from '../index.js';
import { chunks, readAll, runStorageConformance } from '../testing/index.js';

runStorageConformance('retry(logging(memory))', {
  create: async ({ pageSize }) =>
    new RetryingBackend(new LoggingBackend(new MemoryBackend({ pageSize }), () => {}), { sleep: async () => {} }) satisfies StorageBackend,
  boundedMemory: false,
  largeObjectMiB: 16,
});

/** A memory backend whose stat fails with the given errors first. */
function flaky(errors: StorageError[]) {
  const inner = new MemoryBackend();
  let calls = 0;
  const backend: StorageBackend = Object.assign(Object.create(inner), {
    stat: async (key: string) => {
      calls += 1;
      const err = errors.shift();
      if (err) throw err;
      return inner.stat(key);
    },
  });
  return { inner, backend, calls: () => calls };
}

const err = (code: StorageError['code'], retryAfterMs?: number) => new StorageError(code, code, { backend: 't', retryAfterMs });

describe('retry decorator', () => {
  it('retries retryable errors with capped, jittered exponential backoff', async () => {
    const { inner, backend, calls } = flaky([err('TRANSIENT'), err('TRANSIENT'), err('RATE_LIMITED')]);
    await inner.put('k', chunks(Buffer.from('x')));
    const delays: number[] = [];
    const r = new RetryingBackend(backend, { baseDelayMs: 100, maxDelayMs: 250, random: () => 1, sleep: async (ms) => void delays.push(ms) });
    expect((await r.stat('k')).size).toBe(1);
    expect(calls()).toBe(4);
    expect(delays).toEqual([100, 200, 250]);
  });

  it('uses full jitter: a random fraction of the exponential cap', async () => {
    const { inner, backend } = flaky([err('TRANSIENT'), err('TRANSIENT')]);
    await inner.put('k', chunks(Buffer.from('x')));
    const delays: number[] = [];
    await new RetryingBackend(backend, { baseDelayMs: 1000, random: () => 0.25, sleep: async (ms) => void delays.push(ms) }).stat('k');
    expect(delays).toEqual([250, 500]);
  });

  it('honours Retry-After when it is longer than the backoff', async () => {
    const { inner, backend } = flaky([err('RATE_LIMITED', 7000)]);
    await inner.put('k', chunks(Buffer.from('x')));
    const delays: number[] = [];
    await new RetryingBackend(backend, { baseDelayMs: 10, sleep: async (ms) => void delays.push(ms) }).stat('k');
    expect(delays).toEqual([7000]);
  });

  it('never retries permanent errors', async () => {
    for (const code of ['NOT_FOUND', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'QUOTA_EXCEEDED', 'INTEGRITY'] as const) {
      const { backend, calls } = flaky([err(code)]);
      await expect(new RetryingBackend(backend, { sleep: async () => {} }).stat('k')).rejects.toMatchObject({ code });
      expect(calls()).toBe(1);
    }
  });

  it('stops after maxAttempts and after maxTotalMs', async () => {
    const many = () => Array.from({ length: 20 }, () => err('TRANSIENT'));
    const a = flaky(many());
    await expect(new RetryingBackend(a.backend, { maxAttempts: 3, sleep: async () => {} }).stat('k')).rejects.toMatchObject({ code: 'TRANSIENT' });
    expect(a.calls()).toBe(3);
    const b = flaky([err('RATE_LIMITED', 60_000)]);
    await expect(new RetryingBackend(b.backend, { maxTotalMs: 1000, sleep: async () => {} }).stat('k')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(b.calls()).toBe(1);
  });
});

describe('logging decorator', () => {
  it('logs each operation with its outcome and never the body', async () => {
    const events: StorageLogEvent[] = [];
    const b = new LoggingBackend(new MemoryBackend(), (e) => events.push(e));
    await b.put('a/secret-body', chunks(Buffer.from('TOP SECRET PAYLOAD')));
    await readAll(await b.get('a/secret-body'));
    await b.stat('a/missing').catch(() => {});
    expect(events.map((e) => [e.operation, e.ok, e.errorCode])).toEqual([
      ['put', true, undefined],
      ['get', true, undefined],
      ['stat', false, 'NOT_FOUND'],
    ]);
    expect(JSON.stringify(events)).not.toContain('TOP SECRET');
  });
});
