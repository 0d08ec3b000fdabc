import type { KeyMaterial } from '@coffer/crypto';
import { readCatalog, type BackupRecord } from '../catalog.js';
import type { Destination } from '../destinations.js';
import { CofferError, EXIT, usageError } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * The backups to try, best first: for `latest`, every authentic backup of the source by
 * generation (the caller falls back to the next when one fails to authenticate in full);
 * for an id, every copy of that backup.
 */
export async function candidates(
  destinations: readonly Destination[],
  key: KeyMaterial,
  which: string,
  source: string | undefined,
  log: Logger,
): Promise<BackupRecord[]> {
  const all: BackupRecord[] = [];
  const unlisted: string[] = [];
  let otherKeys = 0;
  for (const d of destinations) {
    try {
      const { backups, problems } = await readCatalog(d, key, source);
      otherKeys += problems.filter((p) => p.problem === 'WRONG_KEY').length;
      for (const p of problems) log.warn(`destination ${d.name}: ${p.objectKey} ignored (${p.problem === 'WRONG_KEY' ? 'made with another key' : p.problem === 'CORRUPTED' ? 'damaged or tampered with' : 'misplaced'})`);
      all.push(...backups);
    } catch (err) {
      unlisted.push(`destination ${d.name}: cannot list backups: ${(err as Error).message}`);
    }
  }
  // A destination that could not be read is not one without backups: when nothing was found,
  // its reason (connection refused, access denied...) is the error, not "no backup".
  const found = which === 'latest' ? all.length > 0 : all.some((b) => b.backupId === which);
  if (!found && unlisted.length > 0) throw new CofferError('DESTINATION_UNREADABLE', unlisted.join('\n'), EXIT.failure);
  for (const line of unlisted) log.warn(line);
  if (which === 'latest') {
    const sources = new Set(all.map((b) => b.source));
    if (!source && sources.size > 1) throw usageError(`backups of several sources exist (${[...sources].join(', ')}); pass --source NAME`);
    // Backups there, all another key's: the wrong key (exit 12), not an empty destination.
    if (all.length === 0) throw new CofferError('NO_BACKUP', `no backup${source ? ` of ${source}` : ''} made with key ${key.keyId} was found`, otherKeys > 0 ? EXIT.wrongKey : EXIT.failure);
    return all.sort((a, b) => b.generation - a.generation || b.createdAt.localeCompare(a.createdAt));
  }
  const matches = all.filter((b) => b.backupId === which);
  if (matches.length === 0) throw new CofferError('NO_BACKUP', `no backup with id ${which} made with key ${key.keyId} was found`, EXIT.failure);
  return matches;
}
