import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { CofferCryptoError, createDecryptStream, type KeyMaterial } from '@coffer/crypto';
import { restoreInto } from '../archive/restore-into.js';
import { countEntries, gunzipIfCompressed, unpack } from '../archive/unpack.js';
import type { BackupRecord } from '../catalog.js';
import { chunkedTar } from '../chunked/read-chunked.js';
import type { Destination } from '../destinations.js';
import { CofferError, EXIT, usageError } from '../errors.js';
import { loadReadingKey } from '../keys.js';
import type { Logger } from '../log.js';
import { describeError } from '../pipeline/backup-source.js';
import { plural } from '../plural.js';
import { checkFreshness, checkSubstitution, fetchAnchor, unlockWithPassword } from '../vault.js';
import { contextFor, destinationsFor, type GlobalOptions } from './context.js';
import { candidates } from './select-backup.js';

interface ReadOptions extends GlobalOptions {
  config?: string;
  destination?: string;
  source?: string;
  keyFile?: string;
  vault?: boolean;
  passwordFile?: string;
}

/**
 * Streams one backup through decryption into `consume` (given the tar); resolves with its result
 * only once all of it authenticated, and `check` (given the ciphertext's SHA-256) accepted it.
 */
async function readBackup<T>(
  record: BackupRecord,
  destinations: readonly Destination[],
  key: KeyMaterial,
  consume: (tar: AsyncIterable<Buffer>) => Promise<T>,
  check?: (sha256: string) => void,
): Promise<T> {
  const destination = destinations.find((d) => d.name === record.destination)!;
  const body = await destination.backend.get(record.objectKey);
  // The ciphertext hash is only needed for the vault's substitution check.
  const hash = check ? createHash('sha256') : undefined;
  const tap = async function* (src: AsyncIterable<Buffer>) {
    for await (const chunk of src) {
      hash?.update(chunk);
      yield chunk;
    }
  };
  let result: T | undefined;
  // A chunked backup's payload is its manifest: the tar is the chunks it lists (SPEC §10).
  const tarOf = (plaintext: AsyncIterable<Buffer>) => (record.format === 2 ? chunkedTar(plaintext, destination, key, record.source) : plaintext);
  await pipeline(body, tap, createDecryptStream(key), async (plaintext: AsyncIterable<Buffer>) => void (result = await consume(gunzipIfCompressed(tarOf(plaintext)))));
  if (check && hash) check(hash.digest('hex'));
  return result!;
}

/** The key, the candidates best first, and the freshness check (vault mode) for restore and verify. */
async function prepare(which: string, options: ReadOptions) {
  const ctx = contextFor(options.config, options);
  const key = options.vault ? await unlockWithPassword(ctx.config, options.passwordFile, ctx.log) : await loadReadingKey(options.keyFile ?? ctx.config.key.file, (m) => ctx.log.warn(m));
  const destinations = await destinationsFor(ctx, options.destination);
  let records = await candidates(destinations, key, which, options.source, ctx.log);
  let check: ((record: BackupRecord) => (sha256: string) => void) | undefined;
  if (options.vault) {
    const anchor = await fetchAnchor(ctx.config, key, records[0]!.source);
    if (which === 'latest') records = checkFreshness(records, anchor, records[0]!.source, ctx.log);
    check = (record) => (sha) => checkSubstitution(record, sha, anchor);
  }
  return { ctx, key, destinations, records, check };
}

/**
 * Tries candidates best first; a candidate that fails to authenticate is reported and skipped.
 * For `latest`, a backup older than the newest is tried only with `acceptOlder`: restoring it in
 * the newest's place is a rollback, which whoever stores the backups could force by damaging the
 * newest. Other copies of the newest are tried either way.
 */
async function firstThatWorks(
  records: BackupRecord[],
  which: string,
  log: Logger,
  acceptOlder: boolean,
  attempt: (record: BackupRecord) => Promise<void>,
): Promise<BackupRecord> {
  const newest = records[0]!.backupId;
  /** Each copy of the newest backup that failed, and why. */
  const failed: string[] = [];
  let lastError: unknown;
  for (const [i, record] of records.entries()) {
    if (record.backupId !== newest && records[i - 1]!.backupId === newest) {
      if (!acceptOlder) {
        throw new CofferError(
          'NEWEST_UNREADABLE',
          `the newest backup could not be read in full (${failed.join('; ')}); restoring an older one instead would be a rollback: name the backup to restore (see coffer list) or pass --accept-older`,
          EXIT.failure,
          { cause: lastError },
        );
      }
      log.warn(`restoring a backup older than the newest, which could not be read in full (${failed.join('; ')})`);
    }
    try {
      await attempt(record);
      return record;
    } catch (err) {
      lastError = err;
      if (err instanceof CofferError && ['RESTORE_TARGET_NOT_EMPTY', 'SUBSTITUTED', 'UNSAFE_ARCHIVE', 'RESTORE_WRITE'].includes(err.code)) throw err;
      const copy = `backup ${record.backupId} (generation ${record.generation}) on ${record.destination}`;
      if (record.backupId === newest) failed.push(`${copy}: ${describeError(err)}`);
      // The newest's last copy is named by what follows: the refusal, the warning, or the error below.
      if (record.backupId !== newest || records[i + 1]?.backupId === newest) log.warn(`${copy} failed: ${describeError(err)}`);
    }
  }
  const why = lastError instanceof CofferCryptoError ? lastError.message : describeError(lastError);
  throw new CofferError('RESTORE_FAILED', `no ${which === 'latest' ? 'backup' : `copy of ${which}`} could be read in full: ${why}`, EXIT.failure, { cause: lastError });
}

export async function restoreCommand(
  which: string | undefined,
  options: ReadOptions & { to?: string; force?: boolean; keepSpecialBits?: boolean; acceptOlder?: boolean },
): Promise<number> {
  if (!options.to) throw usageError('--to DIR is required');
  const { ctx, key, destinations, records, check } = await prepare(which ?? 'latest', options);
  const to = options.to;
  const chosen = await firstThatWorks(records, which ?? 'latest', ctx.log, Boolean(options.acceptOlder), (record) =>
    restoreInto(to, Boolean(options.force), async (temp) => {
      await readBackup(record, destinations, key, (tar) => unpack(tar, temp, ctx.log, undefined, { keepSpecialBits: options.keepSpecialBits, shownAs: to }), check?.(record));
    }, ctx.log),
  );
  ctx.log.info(`restored backup ${chosen.backupId} of ${chosen.source} (generation ${chosen.generation}, ${chosen.createdAt}) from ${chosen.destination} into ${to}`);
  return 0;
}

export async function verifyCommand(which: string | undefined, options: ReadOptions): Promise<number> {
  const { key, destinations, records, check } = await prepare(which ?? 'latest', options);
  // Verify checks one backup completely: the best candidate must pass, with no fallback.
  const record = records[0]!;
  let entries: number;
  try {
    // Decrypt and parse the archive, discarding plaintext: nothing is written anywhere.
    entries = await readBackup(record, destinations, key, countEntries, check?.(record));
  } catch (err) {
    if (err instanceof CofferError && err.code === 'SUBSTITUTED') throw err;
    throw new CofferError('VERIFY_FAILED', `backup ${record.backupId} on ${record.destination} failed verification: ${describeError(err)}`, EXIT.failure, { cause: err });
  }
  process.stdout.write(`backup ${record.backupId} of ${record.source} (generation ${record.generation}) on ${record.destination}: OK, ${plural(entries, 'archive entry', 'archive entries')}, ${plural(record.size, 'byte')} authenticated\n`);
  return 0;
}
