import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { GetOptions, ObjectInfo, PutOptions, PutResult, StorageBackend, StorageCapabilities } from '../backend.js';
import { bodyError, throwIfAborted } from '../abort.js';
import { StorageError } from '../errors.js';
import { validateKey, validatePrefix } from '../object-key.js';
import { resolveRange } from '../range.js';

interface StoredObject {
  readonly data: Buffer;
  readonly modifiedAt: Date;
}

export interface MemoryBackendOptions {
  /** Objects per listing page, to exercise paging in tests. */
  readonly pageSize?: number;
}

/**
 * In-memory backend for tests (ours and users'). It necessarily holds objects in memory;
 * never use it for real backups.
 */
export class MemoryBackend implements StorageBackend {
  readonly name = 'memory';
  readonly capabilities: StorageCapabilities = {
    atomicWrites: true,
    providerChecksum: 'sha256',
    resumableUploads: false,
    rangedReads: true,
  };
  private readonly objects = new Map<string, StoredObject>();
  private readonly pageSize: number;

  constructor(options: MemoryBackendOptions = {}) {
    this.pageSize = options.pageSize ?? 1000;
  }

  async put(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    validateKey(key, this.name);
    throwIfAborted(options.signal, this.name, key);
    const parts: Buffer[] = [];
    let sent = 0;
    try {
      for await (const chunk of body) {
        throwIfAborted(options.signal, this.name, key);
        parts.push(Buffer.from(chunk));
        sent += chunk.length;
        options.onProgress?.(sent);
      }
    } catch (err) {
      throw bodyError(err, this.name, key);
    }
    throwIfAborted(options.signal, this.name, key);
    const data = Buffer.concat(parts);
    // Visible only now, whole: the atomic-write guarantee.
    this.objects.set(key, { data, modifiedAt: new Date() });
    return { key, size: data.length, checksum: { algorithm: 'sha256', value: createHash('sha256').update(data).digest('hex') } };
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const object = this.require(key);
    const [start, end] = resolveRange(options.range, object.data.length, this.name, key);
    return Readable.from([object.data.subarray(start, end)], { objectMode: false });
  }

  async stat(key: string): Promise<ObjectInfo> {
    const object = this.require(key);
    return { key, size: object.data.length, modifiedAt: object.modifiedAt };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix, this.name);
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (let i = 0; i < keys.length; i += this.pageSize) {
      for (const key of keys.slice(i, i + this.pageSize)) {
        const object = this.objects.get(key);
        if (object) yield { key, size: object.data.length, modifiedAt: object.modifiedAt };
      }
    }
  }

  async delete(key: string): Promise<void> {
    validateKey(key, this.name);
    this.objects.delete(key);
  }

  private require(key: string): StoredObject {
    validateKey(key, this.name);
    const object = this.objects.get(key);
    if (!object) throw new StorageError('NOT_FOUND', `no object ${key}`, { backend: this.name, key });
    return object;
  }
}
