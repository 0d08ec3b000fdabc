import { describe, expect, it } from 'vitest';
import { describeRetry, LoggingBackend, MemoryBackend, RetryingBackend, StorageError, type RetryInfo, type StorageBackend, type StorageLogEvent } from '../index.js';
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
    for (const code of ['NOT_FOUND', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'QUOTA_EXCEEDED', 'INTEGRITY', 'INVALID_ARGUMENT', 'ABORTED'] as const) {
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

describe('retry decorator and puts', () => {
  it('hands put its policy for each repeatable request, and never replays the body itself', async () => {
    const seen: RetryInfo[] = [];
    let bodyReads = 0;
    let requests = 0;
    const inner = new MemoryBackend();
    const backend: StorageBackend = Object.assign(Object.create(inner), {
      put: async (key: string, body: AsyncIterable<Uint8Array>, options: Parameters<StorageBackend['put']>[2]) => {
        for await (const _ of body) bodyReads += 1;
        // A backend retries a buffered part through the runner it was given.
        await options!.retry!('put part 1', async () => {
          requests += 1;
          if (requests <= 5) throw new StorageError('RATE_LIMITED', 'slow down', { backend: 't', providerCode: 'SlowDown', status: 503 });
        });
        return { key, size: 1 };
      },
    });
    const r = new RetryingBackend(backend, { random: () => 0.5, baseDelayMs: 100, sleep: async () => {}, onRetry: (i) => seen.push(i) });
    await r.put('k', chunks(Buffer.from('x')));
    expect(bodyReads).toBe(1);
    expect(requests).toBe(6);
    expect(seen.map(describeRetry)).toEqual([
      'retrying put part 1 of k in 0.1 s (SlowDown 503), attempt 2/8',
      'retrying put part 1 of k in 0.1 s (SlowDown 503), attempt 3/8',
      'retrying put part 1 of k in 0.2 s (SlowDown 503), attempt 4/8',
      'retrying put part 1 of k in 0.4 s (SlowDown 503), attempt 5/8',
      'retrying put part 1 of k in 0.8 s (SlowDown 503), attempt 6/8',
    ]);
  });

  it('a put that fails outright is not repeated: the body was read once', async () => {
    let calls = 0;
    const inner = new MemoryBackend();
    const backend: StorageBackend = Object.assign(Object.create(inner), {
      put: async () => {
        calls += 1;
        throw new StorageError('TRANSIENT', 'reset', { backend: 't' });
      },
    });
    await expect(new RetryingBackend(backend, { sleep: async () => {} }).put('k', chunks(Buffer.from('x')))).rejects.toMatchObject({ code: 'TRANSIENT' });
    expect(calls).toBe(1);
  });

  it('a wait is cut short by the abort signal', async () => {
    const inner = new MemoryBackend();
    await inner.put('k', chunks(Buffer.from('x')));
    const backend: StorageBackend = Object.assign(Object.create(inner), {
      get: async () => {
        throw new StorageError('TRANSIENT', 'reset', { backend: 't' });
      },
    });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 20);
    const started = Date.now();
    await expect(new RetryingBackend(backend, { baseDelayMs: 60_000, random: () => 1 }).get('k', { signal: abort.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('recognises retryable errors from another copy of the package', async () => {
    const path = '../errors.js?other-copy';
    const copy = (await import(/* @vite-ignore */ path)) as typeof import('../errors.js');
    const { inner, backend, calls } = flaky([new copy.StorageError('TRANSIENT', 'x', { backend: 't' }) as StorageError]);
    await inner.put('k', chunks(Buffer.from('x')));
    await new RetryingBackend(backend, { sleep: async () => {} }).stat('k');
    expect(calls()).toBe(2);
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
