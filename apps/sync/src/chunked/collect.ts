import type { WriteOnlyKey } from '@coffer/crypto';
import { isStorageError } from '@coffer/storage';
import type { Destination } from '../destinations.js';
import { planCollection } from '../gc/plan-collection.js';
import type { Logger } from '../log.js';
import { CHUNK_KEY, MANIFEST_KEY, REFS_KEY, type ChunkedLayout } from './layout.js';
import { readObject } from './read-object.js';
import { parseRefs } from './refs.js';

/**
 * SPEC §13 step 5 on one destination: lists the source's manifests, reference lists and chunks,
 * then deletes what planCollection allows. Returns the number of chunks deleted.
 */
export async function collectGarbage(destination: Destination, key: WriteOnlyKey, layout: ChunkedLayout, log: Logger): Promise<number> {
  const keys = key.chunkKeys!;
  const manifests: string[] = [];
  const refsIds: string[] = [];
  for await (const info of destination.backend.list(layout.backups)) {
    const manifest = MANIFEST_KEY.exec(info.key);
    if (manifest) manifests.push(manifest[2]!);
    const refs = REFS_KEY.exec(info.key);
    if (refs) refsIds.push(refs[2]!);
  }
  const refs = new Map<string, readonly string[] | 'invalid'>();
  for (const backupId of refsIds) {
    // A list without its manifest is only deleted: what it says does not matter.
    if (!manifests.includes(backupId)) {
      refs.set(backupId, []);
      continue;
    }
    try {
      refs.set(backupId, parseRefs(keys, await readObject(destination, layout.refs(backupId)), { keyId: key.keyId, sourceId: layout.sourceId, backupId }).ids);
    } catch (err) {
      if (isStorageError(err, 'NOT_FOUND')) continue;
      if ((err as { code?: string }).code !== 'CORRUPTED') throw err;
      refs.set(backupId, 'invalid');
    }
  }
  const chunks: string[] = [];
  for await (const info of destination.backend.list(layout.chunks)) {
    const chunk = CHUNK_KEY.exec(info.key);
    if (chunk) chunks.push(chunk[2]!);
  }
  const plan = planCollection({ manifests, refs, chunks });
  if (plan.blockedBy.length > 0) {
    log.warn(`destination ${destination.name}: unused chunks are kept: backup(s) ${plan.blockedBy.join(', ')} have no reference list that verifies`);
  }
  for (const chunk of plan.deleteChunks) await destination.backend.delete(layout.chunk(chunk));
  for (const backupId of plan.deleteRefs) await destination.backend.delete(layout.refs(backupId));
  return plan.deleteChunks.length;
}
