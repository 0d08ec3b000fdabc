import { setTimeout as sleep } from 'node:timers/promises';
import type { GetOptions, ObjectInfo, PutOptions, PutResult, StorageBackend } from '../backend.js';
import { isStorageError, StorageError } from '../errors.js';
import type { Readable } from 'node:stream';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** No new attempt starts after this much time since the first. */
  readonly maxTotalMs: number;
  /** Called before each wait; for logging. */
  readonly onRetry?: (info: { operation: string; key?: string; attempt: number; delayMs: number; error: StorageError }) => void;
  /** Tests only. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 250, maxDelayMs: 30_000, maxTotalMs: 5 * 60_000 };

/**
 * Retries retryable StorageErrors with exponential backoff and full jitter (AWS architecture
 * blog), honouring a provider's Retry-After. Hand-written rather than p-retry: p-retry has no
 * full jitter and no per-error delay, and both are the point here.
 *
 * `put` bodies are read once and cannot be replayed, so `put` is not retried here: backends that
 * buffer a bounded part (S3 multipart, Drive resumable chunks) retry and resume that part inside.
 */
export class RetryingBackend implements StorageBackend {
  readonly name: string;
  readonly capabilities;
  private readonly policy: RetryPolicy;

  constructor(
    private readonly inner: StorageBackend,
    policy: Partial<RetryPolicy> = {},
  ) {
    this.name = inner.name;
    this.capabilities = inner.capabilities;
    this.policy = { ...DEFAULT_RETRY, ...policy };
  }

  private async run<T>(operation: string, key: string | undefined, fn: () => Promise<T>): Promise<T> {
    const { maxAttempts, baseDelayMs, maxDelayMs, maxTotalMs } = this.policy;
    const wait = this.policy.sleep ?? ((ms: number) => sleep(ms));
    const random = this.policy.random ?? Math.random;
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isStorageError(err) || !err.isRetryable || attempt >= maxAttempts) throw err;
        const backoff = random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
        const delayMs = Math.max(backoff, err.retryAfterMs ?? 0);
        if (Date.now() - started + delayMs > maxTotalMs) throw err;
        this.policy.onRetry?.({ operation, key, attempt, delayMs, error: err });
        await wait(delayMs);
      }
    }
  }

  put(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    return this.inner.put(key, body, options);
  }

  get(key: string, options?: GetOptions): Promise<Readable> {
    return this.run('get', key, () => this.inner.get(key, options));
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
