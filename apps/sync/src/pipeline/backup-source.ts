import { createHash, randomBytes } from 'node:crypto';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { createEncryptStream, readBackupMetadata, type WriteOnlyKey } from '@coffer/crypto';
import type { ChecksumAlgorithm, PutResult } from '@coffer/storage';
import { AdaptiveIo } from '../archive/adaptive-io.js';
import { BufferPool } from '../archive/buffer-pool.js';
import { createArchive, newReport, PIECE_BYTES, type ArchiveReport } from '../archive/create.js';
import { EntryStream } from '../archive/entry-stream.js';
import { countBytes } from '../archive/scan.js';
import { padStream } from '../archive/padme.js';
import { objectKey, readCatalog, type BackupRecord } from '../catalog.js';
import { chunkerParams, listPresentChunks, requireChunkKeys, storeManifest } from '../chunked/backup-chunked.js';
import { collectGarbage } from '../chunked/collect.js';
import { chunkedLayout } from '../chunked/layout.js';
import type { ManifestEntry } from '../chunked/manifest.js';
import { sealManifest } from '../chunked/seal-manifest.js';
import { writeChunks, type ChunkSink } from '../chunked/write-chunks.js';
import type { RetentionPolicy, SourceConfig } from '../config/schema.js';
import type { Destination } from '../destinations.js';
import { CofferError, EXIT } from '../errors.js';
import type { Logger } from '../log.js';
import { applyRetention } from '../retention/apply-retention.js';
import { plural } from '../plural.js';
import { coalesce } from './coalesce.js';
import { tee, type TeeResult } from './tee.js';
import { sha256Of } from './verify.js';

export interface DestinationOutcome {
  readonly destination: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly removed: string[];
  /** Bytes this backup sent there: the whole backup, or for a chunked one its new chunks and manifest. */
  readonly uploaded?: number;
  /** Objects the backup consists of there: 1, or its chunks, manifest and reference list. */
  readonly objects?: number;
}

export interface SourceOutcome {
  readonly source: string;
  readonly backupId: string;
  readonly generation: number;
  readonly size: number;
  /** Bytes of the padded tar, before encryption: what a chunked backup is made of. */
  readonly plainSize: number;
  /** SHA-256 of the backup object, when `sha256` was asked for. */
  readonly sha256?: string;
  readonly archive: ArchiveReport;
  readonly destinations: DestinationOutcome[];
  readonly seconds: number;
}

export interface BackupSourceOptions {
  readonly source: SourceConfig;
  readonly destinations: readonly Destination[];
  readonly key: WriteOnlyKey;
  readonly retention: RetentionPolicy;
  /** The newest generation this machine remembers for the source (state file). */
  readonly knownGeneration: number;
  /** Compute the backup's SHA-256 even if no destination needs it (the vault's anchor does). */
  readonly sha256?: boolean;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  /** Bytes archived so far, and the source's total once a walk has counted it. */
  readonly onProgress?: (bytes: number, total: number | undefined) => void;
  readonly now?: () => Date;
}

export function newBackupId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
}

/** The source folder cannot be listed: no backup can be made. */
function sourceError(source: SourceConfig, err: unknown): CofferError {
  return new CofferError('SOURCE', `cannot read ${source.path}: ${(err as NodeJS.ErrnoException).code ?? describeError(err)}`, EXIT.failure, { cause: err });
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One source, one run: archive → pad → encrypt → every destination from a single read of the
 * source → verify each upload → only then apply retention there.
 */
export async function backupSource(options: BackupSourceOptions): Promise<SourceOutcome> {
  const { source, destinations, key, log } = options;
  const started = performance.now();
  const now = options.now?.() ?? new Date();

  // Generation: one more than the newest known here or on any reachable destination, so a
  // destination that lost backups, or a state file that was lost, cannot make a number repeat.
  const catalogs = await Promise.all(
    destinations.map((d) =>
      readCatalog(d, key, source.name).catch((err) => {
        log.warn(`destination ${d.name}: cannot list backups: ${describeError(err)}`);
        return null;
      }),
    ),
  );
  const newestOnDestinations = Math.max(0, ...catalogs.flatMap((c) => c?.backups.map((b) => b.generation) ?? []));
  const generation = Math.max(options.knownGeneration, newestOnDestinations) + 1;
  const backupId = newBackupId(now);
  const key_ = objectKey(source.name, backupId);
  const metadata = { backupId, source: source.name, createdAt: now.toISOString(), generation };

  // Destinations by format (SPEC §9–§13): one read of the source feeds both kinds.
  const singles = destinations.filter((d) => d.config.format !== 'chunked');
  const chunked = destinations.filter((d) => d.config.format === 'chunked');
  if (chunked.length > 0) requireChunkKeys(key);
  const layout = chunked.length > 0 ? chunkedLayout(key.chunkKeys!, source.name) : undefined;
  const sinks: ChunkSink[] = layout ? await listPresentChunks(chunked, layout) : [];

  const report = newReport();
  // Blocking reads while the page cache serves them; for very many files the scan switches to the
  // thread pool (MANY_ENTRIES).
  const io = new AdaptiveIo();
  // The archive takes entries as the scan finds them. A source that cannot be listed at all fails
  // here, before anything is sent anywhere.
  const entries = EntryStream.scan(source.path, source.exclude, report, io);
  await entries.ready().catch((err) => {
    throw sourceError(source, err);
  });
  // Only a progress bar needs the total, known before the backup ends: a second walk counts it.
  let total: number | undefined;
  const counting = new AbortController();
  if (options.onProgress) void countBytes(source.path, source.exclude, counting.signal).then((bytes) => (total = bytes), () => {});
  // Encryption hands the archive's pieces and coalesced ones back once it has sealed them;
  // coalescing hands back those it copied.
  const pool = new BufferPool(PIECE_BYTES, 24);
  const archive = createArchive(entries, report, { pool, io });
  // The checksums to compare each upload with: the one its provider reports, or SHA-256 of the
  // object read back when it reports none.
  const checksums = new Set<ChecksumAlgorithm>(singles.map((d) => (d.backend.capabilities.providerChecksum === 'none' ? 'sha256' : d.backend.capabilities.providerChecksum)));
  if (options.sha256) checksums.add('sha256');
  // Both kinds read the same pieces: then only the last reader may hand them back, so none does.
  const release = singles.length > 0 && chunked.length > 0 ? undefined : (chunk: Uint8Array) => void pool.release(chunk);
  const encrypt = createEncryptStream({
    key,
    metadata,
    onConsumed: release,
    // CRC-32 of exactly the bytes the tee then sends, unchanged, to every destination: computed
    // on the thread pool while each sealed batch is still in cache, not here on this thread.
    crc32: checksums.has('crc32'),
  });
  let plainBytes = 0;
  const counted = async function* (src: AsyncIterable<Uint8Array>) {
    for await (const chunk of coalesce(src, pool, (copied) => pool.release(copied))) {
      plainBytes += chunk.length;
      options.onProgress?.(plainBytes, total === undefined ? undefined : Math.max(plainBytes, total));
      yield chunk;
    }
  };
  let paddedBytes = 0;
  const measured = async function* (src: AsyncIterable<Uint8Array>) {
    for await (const chunk of src) {
      paddedBytes += chunk.length;
      yield chunk;
    }
  };
  // archive → coalesce → count → pad → encrypt → every destination, as one pipeline with
  // backpressure; the signal tears it all down, and each destination's put then aborts cleanly.
  const branches = singles.map((d) => ({ name: d.name, consume: (body: AsyncIterable<Uint8Array>) => d.backend.put(key_, body, { signal: options.signal }) }));
  let teeResult: TeeResult<PutResult> | undefined;
  let manifestEntries: ManifestEntry[] | undefined;
  // Compression, when chosen, comes before padding: padding must hide the compressed size.
  const compress = source.compression === 'gzip' ? createGzip({ level: 6 }) : (plain: AsyncIterable<Uint8Array>) => plain;
  const teeChecksums = new Set([...checksums].filter((c) => c !== 'crc32')); // encryption does that one
  const toSingles = async (padded: AsyncIterable<Uint8Array>) =>
    pipeline(padded, encrypt, async (encrypted: AsyncIterable<Uint8Array>) => void (teeResult = await tee<PutResult>(encrypted, branches, { checksums: teeChecksums })));
  const toChunked = async (padded: AsyncIterable<Uint8Array>) =>
    void (manifestEntries = await writeChunks(padded, { keys: key.chunkKeys!, recipient: key.recipient, layout: layout!, sinks, params: chunkerParams(chunked[0]!), signal: options.signal, onConsumed: release }));
  const sink =
    chunked.length === 0 ? toSingles : singles.length === 0 ? toChunked : async (padded: AsyncIterable<Uint8Array>) => {
      const both = await tee(padded, [{ name: 'single', consume: toSingles }, { name: 'chunked', consume: toChunked }], { checksums: new Set() });
      // One kind failing entirely fails only its destinations; both failing is the run's failure.
      if (both.allFailed) throw both.outcomes[0]!.error;
    };
  await pipeline(archive, counted, compress, padStream, measured, sink, {
    signal: options.signal,
  }).finally(() => counting.abort()).catch((err) => {
    if (options.signal?.aborted) throw new CofferError('ABORTED', `backup of ${source.name} was interrupted`, EXIT.interrupted);
    // When every destination failed, the tee stopped reading and the pipeline reports a premature
    // close: the destinations' own errors are the ones to report.
    if (teeResult?.allFailed && chunked.length === 0) return;
    if (chunked.length > 0 && singles.length === 0 && sinks.every((s) => s.error !== undefined)) return;
    throw new CofferError('SOURCE', describeError(err), EXIT.failure, { cause: err });
  });
  const teeSent = teeResult;
  const sent = teeSent ? { ...teeSent, checksums: encrypt.crc32 ? { ...teeSent.checksums, crc32: encrypt.crc32 } : teeSent.checksums } : undefined;

  for (const path of report.changed) log.warn(`source ${source.name}: ${path} changed while it was read; its copy in this backup may be inconsistent`);
  for (const path of report.vanished) log.warn(`source ${source.name}: ${path} disappeared while the backup ran; not included`);
  for (const what of report.unreadable) log.warn(`source ${source.name}: ${what} cannot be read; not included`);
  for (const path of report.skipped) log.warn(`source ${source.name}: ${path} is not a file, folder or symlink; not included`);

  const outcomes: DestinationOutcome[] = [];
  for (const [i, outcome] of (sent?.outcomes ?? []).entries()) {
    const destination = singles[i]!;
    if (outcome.error) {
      outcomes.push({ destination: destination.name, ok: false, error: describeError(outcome.error), removed: [] });
      continue;
    }
    try {
      await verifyUpload(destination, key_, outcome.result!, sent!, key, generation).catch(async (err) => {
        // An object that failed verification must not be listed as a backup; its name is new, so
        // removing it cannot touch any other backup.
        await destination.backend.delete(key_).catch((cleanupErr) => log.warn(`destination ${destination.name}: cannot remove the unverified ${key_}: ${describeError(cleanupErr)}`));
        throw err;
      });
      const removed = await rotate(destination, key, source.name, options.retention, now, backupId, log);
      outcomes.push({ destination: destination.name, ok: true, removed, uploaded: sent!.size, objects: 1 });
    } catch (err) {
      outcomes.push({ destination: destination.name, ok: false, error: describeError(err), removed: [] });
    }
  }
  // Chunked destinations (SPEC §13): steps 1–2 ran with the pipeline; now 3 (reference list, then
  // manifest), 4 (retention) and 5 (collection), each destination on its own.
  const manifest = manifestEntries ? await sealManifest(key, { ...metadata, format: 2 }, manifestEntries) : undefined;
  for (const sink of sinks) {
    const name = sink.destination.name;
    if (sink.error !== undefined || !manifest || !manifestEntries) {
      outcomes.push({ destination: name, ok: false, error: describeError(sink.error ?? 'the backup did not complete'), removed: [] });
      continue;
    }
    try {
      await storeManifest(sink, key, layout!, metadata, manifestEntries, manifest, options.signal);
      const removed = await rotate(sink.destination, key, source.name, options.retention, now, backupId, log);
      const collected = await collectGarbage(sink.destination, key, layout!, log);
      if (collected > 0) log.info(`destination ${name}: removed ${plural(collected, 'chunk')} no backup of ${source.name} needs`);
      outcomes.push({ destination: name, ok: true, removed, uploaded: sink.uploadedBytes + manifest.length, objects: new Set(manifestEntries.map((e) => e.id)).size + 2 });
    } catch (err) {
      outcomes.push({ destination: name, ok: false, error: describeError(err), removed: [] });
    }
  }
  return {
    source: source.name,
    backupId,
    generation,
    size: sent?.size ?? manifest?.length ?? 0,
    plainSize: paddedBytes,
    sha256: sent?.checksums.sha256 ?? (manifest && options.sha256 ? createHash('sha256').update(manifest).digest('hex') : undefined),
    archive: report,
    destinations: outcomes,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Compares what the provider says it stored with exactly the bytes sent; reads back when it says nothing. */
async function verifyUpload(
  destination: Destination,
  key: string,
  stored: PutResult,
  sent: Pick<TeeResult<PutResult>, 'checksums' | 'size'>,
  writeKey: WriteOnlyKey,
  generation: number,
): Promise<void> {
  const fail = (why: string) => new CofferError('VERIFY', `destination ${destination.name}: upload verification failed: ${why}`, EXIT.failure);
  if (stored.size !== sent.size) throw fail(`provider stored ${stored.size} bytes, ${sent.size} were sent`);
  if (stored.checksum) {
    // A checksum other than the capability announced was never computed here: that is a failure too.
    if (stored.checksum.value !== sent.checksums[stored.checksum.algorithm]) throw fail(`provider ${stored.checksum.algorithm} differs from the bytes sent`);
  } else {
    const readBack = await sha256Of(await destination.backend.get(key));
    if (readBack !== sent.checksums.sha256) throw fail('the object read back differs from the bytes sent');
  }
  const info = await destination.backend.stat(key);
  if (info.size !== sent.size) throw fail(`object is ${info.size} bytes, ${sent.size} were sent`);
  const header = await destination.backend.get(key, { range: { start: 0, end: 64 * 1024 } });
  const { metadata } = await readBackupMetadata(header, writeKey);
  header.destroy();
  if (metadata.generation !== generation) throw fail('the stored header is not the one written');
}

/** Retention on one destination, after its new backup verified. Never touches the backup just made. */
async function rotate(
  destination: Destination,
  key: WriteOnlyKey,
  source: string,
  policy: RetentionPolicy,
  now: Date,
  justMade: string,
  log: Logger,
): Promise<string[]> {
  const { backups } = await readCatalog(destination, key, source);
  if (!backups.some((b) => b.backupId === justMade)) throw new CofferError('VERIFY', `destination ${destination.name}: the new backup is not listed`, EXIT.failure);
  const decision = applyRetention(backups, policy, now, justMade);
  const byId = new Map<string, BackupRecord>(backups.map((b) => [b.backupId, b]));
  const removed: string[] = [];
  for (const { backupId, reason } of decision.remove) {
    const record = byId.get(backupId)!;
    log.info(`destination ${destination.name}: removing backup ${backupId} of ${source}: ${reason}`);
    // A manifest goes before its reference list: a list without a manifest is only garbage, a
    // manifest without its list would stop collection (SPEC §13 step 4).
    await destination.backend.delete(record.objectKey);
    if (record.format === 2) await destination.backend.delete(record.objectKey.replace(/\.age$/, '.refs'));
    removed.push(backupId);
  }
  const swept = await destination.cleanup();
  if (swept > 0) log.info(`destination ${destination.name}: removed ${swept} leftover(s) of interrupted uploads`);
  return removed;
}
