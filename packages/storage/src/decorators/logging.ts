import type { Readable } from 'node:stream';
import type { GetOptions, ObjectInfo, PutOptions, PutResult, StorageBackend } from '../backend.js';
import { isStorageError } from '../errors.js';

export interface StorageLogEvent {
  readonly backend: string;
  readonly operation: 'put' | 'get' | 'stat' | 'list' | 'delete';
  readonly key: string;
  readonly ms: number;
  readonly ok: boolean;
  readonly bytes?: number;
  readonly errorCode?: string;
}

/** Reports every operation's outcome and duration. Logs keys and codes only: never bodies or secrets. */
export class LoggingBackend implements StorageBackend {
  readonly name: string;
  readonly capabilities;

  constructor(
    private readonly inner: StorageBackend,
    private readonly log: (event: StorageLogEvent) => void,
  ) {
    this.name = inner.name;
    this.capabilities = inner.capabilities;
  }

  private async time<T>(operation: StorageLogEvent['operation'], key: string, fn: () => Promise<T>, bytes?: (r: T) => number): Promise<T> {
    const start = performance.now();
    try {
      const result = await fn();
      this.log({ backend: this.name, operation, key, ms: performance.now() - start, ok: true, bytes: bytes?.(result) });
      return result;
    } catch (err) {
      const errorCode = isStorageError(err) ? err.code : 'UNKNOWN';
      this.log({ backend: this.name, operation, key, ms: performance.now() - start, ok: false, errorCode });
      throw err;
    }
  }

  put(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    return this.time('put', key, () => this.inner.put(key, body, options), (r) => r.size);
  }
  get(key: string, options?: GetOptions): Promise<Readable> {
    return this.time('get', key, () => this.inner.get(key, options));
  }
  stat(key: string): Promise<ObjectInfo> {
    return this.time('stat', key, () => this.inner.stat(key), (r) => r.size);
  }
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const start = performance.now();
    let count = 0;
    try {
      for await (const info of this.inner.list(prefix)) {
        count += 1;
        yield info;
      }
      this.log({ backend: this.name, operation: 'list', key: prefix, ms: performance.now() - start, ok: true, bytes: count });
    } catch (err) {
      this.log({ backend: this.name, operation: 'list', key: prefix, ms: performance.now() - start, ok: false, errorCode: isStorageError(err) ? err.code : 'UNKNOWN' });
      throw err;
    }
  }
  delete(key: string): Promise<void> {
    return this.time('delete', key, () => this.inner.delete(key));
  }
}
