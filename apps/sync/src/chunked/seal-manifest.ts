import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncryptStream, type BackupMetadataInput, type WriteOnlyKey } from '@coffer/crypto';
import { encodeManifest, type ManifestEntry } from './manifest.js';

/** A manifest (SPEC §10): a Coffer backup of metadata format 2 whose payload is the manifest text. */
export async function sealManifest(key: WriteOnlyKey, metadata: BackupMetadataInput, entries: readonly ManifestEntry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(Readable.from([encodeManifest(entries)]), createEncryptStream({ key, metadata: { ...metadata, format: 2 } }), async (sealed: AsyncIterable<Buffer>) => {
    for await (const part of sealed) parts.push(part);
  });
  return Buffer.concat(parts);
}
