import { CofferCryptoError, openChunk, type KeyMaterial } from '@coffer/crypto';
import { isStorageError } from '@coffer/storage';
import type { Destination } from '../destinations.js';
import { CofferError, EXIT } from '../errors.js';
import { chunkedLayout } from './layout.js';
import { readManifest, type ManifestEntry } from './manifest.js';
import { readObject } from './read-object.js';

/**
 * The tar of a chunked backup, from its decrypted manifest: the chunks it lists, in order, fetched
 * `ahead` at a time, each authenticated (SPEC §9) before any of it is released. Memory: `ahead`
 * chunks, whatever the backup's size.
 */
export async function* chunkedTar(manifest: AsyncIterable<Uint8Array>, destination: Destination, key: KeyMaterial, source: string, ahead = 4): AsyncGenerator<Buffer> {
  const layout = chunkedLayout(key.chunkKeys, source);
  const open = async (entry: ManifestEntry): Promise<Buffer> => {
    const name = `chunk ${entry.id.slice(0, 16)}`;
    try {
      return await openChunk(key.identity, await readObject(destination, layout.chunk(entry.id)), entry.length, entry.id, key.chunkKeys.chunkId);
    } catch (err) {
      if (isStorageError(err, 'NOT_FOUND')) throw new CofferError('CHUNK_MISSING', `${name} of the backup is missing on ${destination.name}`, EXIT.failure, { cause: err });
      if (err instanceof CofferCryptoError) throw new CofferError('CORRUPTED', `${name} of the backup is corrupted or has been tampered with`, EXIT.failure, { cause: err });
      throw err;
    }
  };
  const queue: Promise<Buffer>[] = [];
  const fetch = (entry: ManifestEntry) => {
    const opened = open(entry);
    // Awaited in order below; until then a failure must not count as unhandled.
    opened.catch(() => {});
    queue.push(opened);
  };
  for await (const entry of readManifest(manifest)) {
    fetch(entry);
    if (queue.length >= ahead) yield await queue.shift()!;
  }
  while (queue.length > 0) yield await queue.shift()!;
}
