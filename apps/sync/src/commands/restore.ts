import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CofferCryptoError, createDecryptStream, type KeyMaterial } from '@coffer/crypto';
import { t as tarList } from 'tar';
import { restoreInto, safeExtractor } from '../archive/extract.js';
import type { BackupRecord } from '../catalog.js';
import type { Destination } from '../destinations.js';
import { CofferError, EXIT, usageError } from '../errors.js';
import { loadReadingKey } from '../keys.js';
import type { Logger } from '../log.js';
import { describeError } from '../pipeline/backup-source.js';
import { contextFor, destinationsFor, type GlobalOptions } from './context.js';
import { candidates } from './select-backup.js';

interface ReadOptions extends GlobalOptions {
  config?: string;
  destination?: string;
  source?: string;
  keyFile?: string;
}

/** Streams one backup through decryption into `sink`; resolves only once all of it authenticated. */
async function readBackup(record: BackupRecord, destinations: readonly Destination[], key: KeyMaterial, sink: Writable): Promise<void> {
  const destination = destinations.find((d) => d.name === record.destination)!;
  const body = await destination.backend.get(record.objectKey);
  await pipeline(body, createDecryptStream(key), sink);
}

/** Tries candidates best first; a candidate that fails to authenticate is reported and skipped. */
async function firstThatWorks(
  records: BackupRecord[],
  which: string,
  log: Logger,
  attempt: (record: BackupRecord) => Promise<void>,
): Promise<BackupRecord> {
  let lastError: unknown;
  for (const record of records) {
    try {
      await attempt(record);
      return record;
    } catch (err) {
      lastError = err;
      if (err instanceof CofferError && err.code === 'RESTORE_TARGET_NOT_EMPTY') throw err;
      log.warn(`backup ${record.backupId} (generation ${record.generation}) on ${record.destination} failed: ${describeError(err)}`);
    }
  }
  const why = lastError instanceof CofferCryptoError ? lastError.message : describeError(lastError);
  throw new CofferError('RESTORE_FAILED', `no ${which === 'latest' ? 'backup' : `copy of ${which}`} could be read in full: ${why}`, EXIT.failure, { cause: lastError });
}

export async function restoreCommand(which: string | undefined, options: ReadOptions & { to?: string; force?: boolean }): Promise<number> {
  if (!options.to) throw usageError('--to DIR is required');
  const ctx = contextFor(options.config, options);
  const key = await loadReadingKey(options.keyFile ?? ctx.config.key.file);
  const destinations = await destinationsFor(ctx, options.destination);
  const records = await candidates(destinations, key, which ?? 'latest', options.source, ctx.log);
  const to = options.to;
  const chosen = await firstThatWorks(records, which ?? 'latest', ctx.log, (record) =>
    restoreInto(to, Boolean(options.force), (temp) => readBackup(record, destinations, key, safeExtractor(temp))),
  );
  ctx.log.info(`restored backup ${chosen.backupId} of ${chosen.source} (generation ${chosen.generation}, ${chosen.createdAt}) from ${chosen.destination} into ${to}`);
  return 0;
}

export async function verifyCommand(which: string | undefined, options: ReadOptions): Promise<number> {
  const ctx = contextFor(options.config, options);
  const key = await loadReadingKey(options.keyFile ?? ctx.config.key.file);
  const destinations = await destinationsFor(ctx, options.destination);
  const records = await candidates(destinations, key, which ?? 'latest', options.source, ctx.log);
  // Verify checks one backup completely: the best candidate must pass, with no fallback.
  const record = records[0]!;
  let entries = 0;
  try {
    // Decrypt and parse the archive, discarding plaintext: nothing is written anywhere.
    const parser = tarList({ strict: true, onReadEntry: () => void (entries += 1) }) as unknown as Writable;
    await readBackup(record, destinations, key, parser);
  } catch (err) {
    throw new CofferError('VERIFY_FAILED', `backup ${record.backupId} on ${record.destination} failed verification: ${describeError(err)}`, EXIT.failure, { cause: err });
  }
  process.stdout.write(`backup ${record.backupId} of ${record.source} (generation ${record.generation}) on ${record.destination}: OK, ${entries} archive entries, ${record.size} bytes authenticated\n`);
  return 0;
}
