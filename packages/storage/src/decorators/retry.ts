import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { abortedError } from '../abort.js';
import type { GetOptions, ObjectInfo, PutOptions, PutResult, StorageBackend } from '../backend.js';
import { failureReason, isStorageError, type StorageError } from '../errors.js';

export interface RetryInfo {
  /** What was tried: "get", "stat", "list", "delete", "put", "put part 3", "complete put"... */
  readonly operation: string;
  readonly key?: string;
  /** The attempt that just failed (1 = the first). */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly delayMs: number;
  readonly error: StorageError;
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** The first retry waits up to this long; each further one up to twice as long as the last. */
  readonly baseDelayMs: number;
  /** No single wait is longer (unless the provider's Retry-After asks for longer). */
  readonly maxDelayMs: number;
  /** No new attempt starts if its wait would end later than this after the first attempt began. */
  readonly maxTotalMs: number;
  /** Called before each wait; for logging (see `describeRetry`). */
  readonly onRetry?: (info: RetryInfo) => void;
  /** Tests only. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
}

/**
 * 8 attempts with waits of up to 0.5, 1, 2, 4, 8, 16, 30 s: about 30 s in all on average (full
 * jitter halves the sum of the caps), 61 s at worst, so a provider's bad minute is ridden out
 * while a dead one is reported within about a minute. Ten minutes caps even a long Retry-After.
 */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 30_000, maxTotalMs: 10 * 60_000 };

/** `retrying put of KEY in 2.1 s (SlowDown 503), attempt 3/8`: the attempt about to be made. */
export function describeRetry(info: RetryInfo): string {
  return `retrying ${info.operation}${info.key ? ` of ${info.key}` : ''} in ${(info.delayMs / 1000).toFixed(1)} s (${failureReason(info.error)}), attempt ${info.attempt + 1}/${info.maxAttempts}`;
}

/**
 * Runs `fn`, retrying retryable StorageErrors with exponential backoff and full jitter (AWS
 * architecture blog, "Exponential Backoff And Jitter"), waiting at least as long as a provider's
 * Retry-After. Hand-written rather than p-retry: p-retry has no full jitter and no per-error
 * delay, and both are the point here. Anything that is not a retryable StorageError is thrown
 * at once: disk full, access denied, a missing bucket are never retried.
 */
export async function runWithRetry<T>(policy: RetryPolicy, operation: string, key: string | undefined, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const { maxAttempts, baseDelayMs, maxDelayMs, maxTotalMs } = policy;
  const wait = policy.sleep ?? ((ms: number, s?: AbortSignal) => sleep(ms, undefined, { signal: s }));
  const random = policy.random ?? Math.random;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isStorageError(err) || !err.isRetryable || attempt >= maxAttempts || signal?.aborted) throw err;
      const backoff = random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.max(backoff, err.retryAfterMs ?? 0);
      if (Date.now() - started + delayMs > maxTotalMs) throw err;
      policy.onRetry?.({ operation, key, attempt, maxAttempts, delayMs, error: err });
      try {
        await wait(delayMs, signal);
      } catch {
        throw abortedError(err.backend, key);
      }
    }
  }
}

/**
 * The one retry layer for a backend: get, stat, list and delete are retried whole here. A put's
 * body is read once and cannot be replayed, so the put itself is not retried; instead the
 * backend receives this policy as `PutOptions.retry` and retries each request it can repeat
 * (an S3 part or completion, a Drive chunk) from the bounded buffer it already holds.
 * Provider SDKs MUST have their own retries off, or attempts multiply.
 */
export class RetryingBackend implements StorageBackend {
  readonly name: string;
  readonly capabilities;
  readonly policy: RetryPolicy;

  constructor(
    private readonly inner: StorageBackend,
    policy: Partial<RetryPolicy> = {},
  ) {
    this.name = inner.name;
    this.capabilities = inner.capabilities;
    this.policy = { ...DEFAULT_RETRY, ...policy };
  }

  private run<T>(operation: string, key: string | undefined, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return runWithRetry(this.policy, operation, key, fn, signal);
  }

  put(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    return this.inner.put(key, body, { ...options, retry: (operation, request) => this.run(operation, key, request, options.signal) });
  }

  get(key: string, options?: GetOptions): Promise<Readable> {
    return this.run('get', key, () => this.inner.get(key, options), options?.signal);
  }

  stat(key: string): Promise<ObjectInfo> {
    return this.run('stat', key, () => this.inner.stat(key));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    // A listing that fails midway is retried whole before anything is yielded, so every key is
    // still yielded exactly once. Entries are small (key, size, time): holding them is bounded by
    // the number of backups, not their size.
    yield* await this.run('list', prefix, async () => {
      const items: ObjectInfo[] = [];
      for await (const info of this.inner.list(prefix)) items.push(info);
      return items;
    });
  }

  delete(key: string): Promise<void> {
    return this.run('delete', key, () => this.inner.delete(key));
  }
}

export function withRetry(backend: StorageBackend, policy?: Partial<RetryPolicy>): StorageBackend {
  return new RetryingBackend(backend, policy);
}
