import { CofferCryptoError, readBackupMetadata, type BackupMetadata, type WriteOnlyKey } from '@coffer/crypto';
import { isStorageError } from '@coffer/storage';
import { chunkedLayout, MANIFEST_KEY } from './chunked/layout.js';
import type { Destination } from './destinations.js';

/** Where backups live in a destination: one folder per source (SPEC §12). */
export const ROOT = 'coffer';
/** A single-file backup (format 1); chunked backups' names come from `chunkedLayout`. */
export const objectKey = (source: string, backupId: string) => `${ROOT}/${source}/${backupId}.age`;
const SINGLE_KEY = /^coffer\/([^/]+)\/([^/]+)\.age$/;

export interface BackupRecord extends BackupMetadata {
  readonly destination: string;
  readonly objectKey: string;
  readonly size: number;
}

export interface CatalogProblem {
  readonly destination: string;
  readonly objectKey: string;
  /** WRONG_KEY: made with another key; CORRUPTED: the header does not authenticate; MISPLACED: metadata names another source. */
  readonly problem: 'WRONG_KEY' | 'CORRUPTED' | 'MISPLACED';
  /** WRONG_KEY: the id of the key the backup was made with. */
  readonly keyId?: string;
}

export interface Catalog {
  readonly backups: BackupRecord[];
  readonly problems: CatalogProblem[];
}

/**
 * Lists a destination's backups of both formats, authenticating each header (a ranged read of at
 * most 64 KiB). A write-only key from before chunked backups cannot name their folders: it lists
 * single-file backups only.
 */
export async function readCatalog(destination: Destination, key: WriteOnlyKey, source?: string): Promise<Catalog> {
  const backups: BackupRecord[] = [];
  const problems: CatalogProblem[] = [];
  const prefixes = source ? [`${ROOT}/${source}/`, ...(key.chunkKeys ? [chunkedLayout(key.chunkKeys, source).backups] : [])] : [`${ROOT}/`];
  for (const prefix of prefixes) {
    for await (const info of destination.backend.list(prefix)) {
      const single = SINGLE_KEY.exec(info.key);
      const chunked = single ? null : MANIFEST_KEY.exec(info.key);
      if (!single && !chunked) continue;
      try {
        const stream = await destination.backend.get(info.key, { range: { start: 0, end: 64 * 1024 } });
        const { metadata } = await readBackupMetadata(stream, key);
        stream.destroy();
        // Each format only in its own place, under its own source's name (SPEC §12).
        const folder = single ? metadata.source : key.chunkKeys ? chunkedLayout(key.chunkKeys, metadata.source).sourceId : null;
        const [, inFolder, inName] = (single ?? chunked)!;
        if (metadata.format !== (single ? 1 : 2) || folder !== inFolder || metadata.backupId !== inName) {
          problems.push({ destination: destination.name, objectKey: info.key, problem: 'MISPLACED' });
          continue;
        }
        backups.push({ ...metadata, destination: destination.name, objectKey: info.key, size: info.size });
      } catch (err) {
        if (isStorageError(err, 'NOT_FOUND')) continue; // deleted while we listed
        if (err instanceof CofferCryptoError) {
          problems.push({ destination: destination.name, objectKey: info.key, problem: err.code === 'WRONG_KEY' ? 'WRONG_KEY' : 'CORRUPTED', keyId: err.foundKeyId });
          continue;
        }
        throw err;
      }
    }
  }
  backups.sort((a, b) => b.generation - a.generation || b.createdAt.localeCompare(a.createdAt));
  return { backups, problems };
}
