import { CofferCryptoError, readBackupMetadata, type BackupMetadata, type WriteOnlyKey } from '@coffer/crypto';
import { isStorageError } from '@coffer/storage';
import type { Destination } from './destinations.js';

/** Where backups live in a destination: one folder per source. */
export const ROOT = 'coffer';
export const objectKey = (source: string, backupId: string) => `${ROOT}/${source}/${backupId}.age`;

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
}

export interface Catalog {
  readonly backups: BackupRecord[];
  readonly problems: CatalogProblem[];
}

/** Lists a destination's backups, authenticating each header (a ranged read of at most 64 KiB). */
export async function readCatalog(destination: Destination, key: WriteOnlyKey, source?: string): Promise<Catalog> {
  const backups: BackupRecord[] = [];
  const problems: CatalogProblem[] = [];
  const prefix = source ? `${ROOT}/${source}/` : `${ROOT}/`;
  for await (const info of destination.backend.list(prefix)) {
    const match = info.key.match(/^coffer\/([^/]+)\/([^/]+)\.age$/);
    if (!match) continue;
    try {
      const stream = await destination.backend.get(info.key, { range: { start: 0, end: 64 * 1024 } });
      const { metadata } = await readBackupMetadata(stream, key);
      stream.destroy();
      if (metadata.source !== match[1] || metadata.backupId !== match[2]) {
        problems.push({ destination: destination.name, objectKey: info.key, problem: 'MISPLACED' });
        continue;
      }
      backups.push({ ...metadata, destination: destination.name, objectKey: info.key, size: info.size });
    } catch (err) {
      if (isStorageError(err, 'NOT_FOUND')) continue; // deleted while we listed
      if (err instanceof CofferCryptoError) {
        problems.push({ destination: destination.name, objectKey: info.key, problem: err.code === 'WRONG_KEY' ? 'WRONG_KEY' : 'CORRUPTED' });
        continue;
      }
      throw err;
    }
  }
  backups.sort((a, b) => b.generation - a.generation || b.createdAt.localeCompare(a.createdAt));
  return { backups, problems };
}
