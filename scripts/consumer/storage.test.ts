// What the storage packages' users do: code written against StorageBackend, S3Backend in
// production and MemoryBackend in tests, and the conformance suite on a backend of their own.
import { isStorageError, MemoryBackend, StorageError, type StorageBackend } from '@coffer/storage';
import { S3Backend, s3Error } from '@coffer/storage-s3';
import { chunks, readAll, runStorageConformance } from '@coffer/storage-testkit';
import { describe, expect, it } from 'vitest';

/** The consumer's own code: it only knows the contract. */
class ReportStore {
  constructor(private readonly storage: StorageBackend) {}
  async save(name: string, text: string): Promise<void> {
    await this.storage.put(`reports/${name}`, chunks(Buffer.from(text)));
  }
  async names(): Promise<string[]> {
    const names: string[] = [];
    for await (const info of this.storage.list('reports/')) names.push(info.key.slice('reports/'.length));
    return names.sort();
  }
  async load(name: string): Promise<string | null> {
    try {
      return (await readAll(await this.storage.get(`reports/${name}`))).toString();
    } catch (err) {
      if (isStorageError(err, 'NOT_FOUND')) return null;
      throw err;
    }
  }
}

const production = (): StorageBackend => new S3Backend({ bucket: 'reports-prod', region: 'eu-west-1' });

describe('swapping S3Backend for MemoryBackend', () => {
  it('production code gets an S3Backend (no request is made until it is used)', () => {
    const s3 = production();
    expect(s3).toBeInstanceOf(S3Backend);
    expect(s3.capabilities).toMatchObject({ atomicWrites: true, providerChecksum: 'md5' });
  });

  it('the test gets a MemoryBackend and the same code works unchanged', async () => {
    const store = new ReportStore(new MemoryBackend());
    await store.save('b.txt', 'second');
    await store.save('a.txt', 'first');
    expect(await store.names()).toEqual(['a.txt', 'b.txt']);
    expect(await store.load('a.txt')).toBe('first');
    expect(await store.load('missing.txt')).toBeNull();
  });

  it('errors from either package are one StorageError class (one @coffer/storage installed)', () => {
    const err = s3Error(Object.assign(new Error('gone'), { name: 'NoSuchKey' }), 's3:reports-prod', 'k');
    expect(err).toBeInstanceOf(StorageError);
    expect(isStorageError(err, 'NOT_FOUND')).toBe(true);
  });
});

runStorageConformance('MemoryBackend, installed from the tarballs', {
  create: async ({ pageSize }) => new MemoryBackend({ pageSize }),
  boundedMemory: false,
  largeObjectMiB: 8,
});
