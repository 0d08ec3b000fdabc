import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { makePutReadAfterWrite } from './s3rver-read-after-write.js';

// s3rver's own store, from the s3rver that npm installs (no patch: what the testkit's users get).
const require = createRequire(import.meta.url);
const FilesystemStore = require(join(require.resolve('s3rver'), '..', 'stores', 'filesystem.js')) as new (dir: string) => Parameters<typeof makePutReadAfterWrite>[0];

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const parts = () => Array.from({ length: 32 }, (_, i) => Buffer.alloc(65_536, i));
const total = 32 * 65_536;

/** A store that records, when the PUT is acknowledged (metadata comes last), how much of the object's file is written. */
function probe(fixed: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-s3rver-store-'));
  dirs.push(dir);
  const store = new FilesystemStore(dir);
  const seen: (number | string)[] = [];
  store.putMetadata = async (bucket, key) => {
    try {
      seen.push(statSync(store.getResourcePath(bucket, key, 'object')).size);
    } catch (err) {
      seen.push((err as NodeJS.ErrnoException).code ?? 'error');
    }
  };
  if (fixed) makePutReadAfterWrite(store);
  return { store, seen };
}

describe('s3rver PUTs are read-after-write through the testkit', () => {
  it('s3rver 3.7.1 as installed acknowledges a PUT before its file is written (why the fix exists)', async () => {
    const { store, seen } = probe(false);
    await store.putObject({ bucket: 'b', key: 'k', metadata: {}, content: Buffer.concat(parts()) });
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toBe(total);
  });

  it('with the fix, every PUT is acknowledged only once the whole object is in its file', async () => {
    const { store, seen } = probe(true);
    for (let i = 0; i < 10; i++) {
      const r = await store.putObject({ bucket: 'b', key: `buf-${i}`, metadata: {}, content: Buffer.concat(parts()) });
      expect(r.size).toBe(total);
      await store.putObject({ bucket: 'b', key: `stream-${i}`, metadata: {}, content: Readable.from(parts()) });
    }
    expect(seen).toEqual(Array(20).fill(total));
  });

  it('reports the MD5 S3 would (the ETag of a single PUT)', async () => {
    const { store } = probe(true);
    const r = await store.putObject({ bucket: 'b', key: 'md5', metadata: {}, content: Readable.from([Buffer.from('hello')]) });
    expect(r).toEqual({ size: 5, md5: '5d41402abc4b2a76b9719d911017c592' });
  });
});
