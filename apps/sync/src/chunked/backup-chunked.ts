import { readBackupMetadata, type BackupMetadataInput, type WriteOnlyKey } from '@coffer/crypto';
import type { ChunkerParams } from './cut-finder.js';
import type { Destination } from '../destinations.js';
import { CofferError, EXIT } from '../errors.js';
import { CHUNK_KEY, type ChunkedLayout } from './layout.js';
import type { ManifestEntry } from './manifest.js';
import { putVerified } from './put-verified.js';
import { encodeRefs } from './refs.js';
import type { ChunkSink } from './write-chunks.js';

/** A destination's chunker settings from its config (KiB), in bytes. */
export function chunkerParams(destination: Destination): ChunkerParams {
  const c = destination.config.chunker;
  return { min: c.minKiB * 1024, avg: c.avgKiB * 1024, max: c.maxKiB * 1024 };
}

/** SPEC §2: a write-only key from before chunked backups cannot make them. */
export function requireChunkKeys(key: WriteOnlyKey): asserts key is WriteOnlyKey & { chunkKeys: NonNullable<WriteOnlyKey['chunkKeys']> } {
  if (!key.chunkKeys) {
    throw new CofferError(
      'KEY',
      'this write-only key was made before chunked backups and cannot make them: make a new one with `coffer key write-only --out FILE` where the backup key is, or use format: single',
      EXIT.usage,
    );
  }
}

/**
 * SPEC §13 step 1: what each destination already stores. A destination that cannot be listed
 * starts failed: uploading without knowing would be waste, never harm, but it is down anyway.
 */
export async function listPresentChunks(destinations: readonly Destination[], layout: ChunkedLayout): Promise<ChunkSink[]> {
  return Promise.all(
    destinations.map(async (destination) => {
      const sink: ChunkSink = { destination, present: new Set(), uploadedChunks: 0, uploadedBytes: 0 };
      try {
        for await (const info of destination.backend.list(layout.chunks)) {
          const match = CHUNK_KEY.exec(info.key);
          if (match) sink.present.add(match[2]!);
        }
      } catch (err) {
        sink.error = err;
      }
      return sink;
    }),
  );
}

/** SPEC §13 step 3 on one destination: the reference list, then the manifest, each verified. */
export async function storeManifest(
  sink: ChunkSink,
  key: WriteOnlyKey,
  layout: ChunkedLayout,
  metadata: BackupMetadataInput,
  entries: readonly ManifestEntry[],
  manifest: Buffer,
  signal?: AbortSignal,
): Promise<void> {
  const { destination } = sink;
  const subject = { keyId: key.keyId, sourceId: layout.sourceId, backupId: metadata.backupId, generation: metadata.generation };
  const refs = encodeRefs(key.chunkKeys!, subject, entries.map((e) => e.id), sink.uploadedBytes + manifest.length);
  await putVerified(destination, layout.refs(metadata.backupId), refs, signal);
  await putVerified(destination, layout.manifest(metadata.backupId), manifest, signal);
  const header = await destination.backend.get(layout.manifest(metadata.backupId), { range: { start: 0, end: 64 * 1024 } });
  const stored = await readBackupMetadata(header, key);
  header.destroy();
  if (stored.metadata.generation !== metadata.generation || stored.metadata.format !== 2) {
    throw new CofferError('VERIFY', `destination ${destination.name}: the stored manifest is not the one written`, EXIT.failure);
  }
}
