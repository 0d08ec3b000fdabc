import { batchIoAddon } from '@coffer/batch-io';
import { describeSealing, toWriteOnly } from '@coffer/crypto';
import type { LoadedConfig } from '../config/load.js';
import type { Destination } from '../destinations.js';
import { requireChunkKeys } from '../chunked/backup-chunked.js';
import { usageError } from '../errors.js';
import { loadKey } from '../keys.js';
import type { Logger } from '../log.js';
import { backupSource, describeError, type SourceOutcome } from '../pipeline/backup-source.js';
import { createProgress } from '../progress.js';
import { plural } from '../plural.js';
import { bytesText } from '../units.js';
import { readState, writeState } from '../state.js';
import { updateAnchor } from '../vault.js';

export interface RunOptions {
  readonly config: LoadedConfig;
  readonly destinations: readonly Destination[];
  readonly log: Logger;
  readonly onlySource?: string;
  readonly signal?: AbortSignal;
  readonly progress?: boolean;
  /** Called per source and destination, for metrics. */
  readonly onOutcome?: (outcome: SourceOutcome) => void;
  /** Called when a source's backup failed before reaching any destination (for health). */
  readonly onSourceFailure?: (source: string, error: unknown) => void;
}

/** One backup run over the configured sources. Returns true when every destination succeeded. */
export async function runBackup(options: RunOptions): Promise<boolean> {
  const { config, log } = options;
  const key = await loadKey(config.key.file, (m) => log.warn(m));
  const writeKey = toWriteOnly(key.material);
  // A configuration problem: it stops the run before any source, with exit code 2.
  if (options.destinations.some((d) => d.config.format === 'chunked')) requireChunkKeys(writeKey);
  const sources = options.onlySource ? config.sources.filter((s) => s.name === options.onlySource) : config.sources;
  if (options.onlySource && sources.length === 0) throw usageError(`no source named "${options.onlySource}" in ${config.configPath}`);
  log.debug(`sealing with ${describeSealing()}; small files read ${batchIoAddon ? 'in batches' : 'one at a time'}`);
  let allOk = true;
  for (const source of sources) {
    const state = await readState(config.stateDir);
    const progress = createProgress(`backup ${source.name}`, options.progress ?? true);
    let outcome: SourceOutcome;
    try {
      outcome = await backupSource({
        source,
        destinations: options.destinations,
        key: writeKey,
        retention: config.retention,
        knownGeneration: state.sources[source.name]?.generation ?? 0,
        sha256: Boolean(config.key.vault),
        log,
        signal: options.signal,
        onProgress: progress ? (bytes, total) => progress.update(bytes, total) : undefined,
      });
    } catch (err) {
      progress?.stop();
      if (options.signal?.aborted) throw err;
      log.error(`source ${source.name}: backup failed: ${describeError(err)}`);
      options.onSourceFailure?.(source.name, err);
      allOk = false;
      continue;
    }
    progress?.stop();
    options.onOutcome?.(outcome);
    const succeeded = outcome.destinations.filter((d) => d.ok);
    if (succeeded.length > 0) {
      await writeState(config.stateDir, {
        sources: { ...state.sources, [source.name]: { generation: outcome.generation, lastBackupId: outcome.backupId, lastSuccessAt: new Date().toISOString() } },
      });
    }
    if (succeeded.length > 0 && config.key.vault) {
      try {
        await updateAnchor(config, writeKey, { source: source.name, backupId: outcome.backupId, generation: outcome.generation, sha256: outcome.sha256! });
      } catch (err) {
        allOk = false;
        log.error(`backup ${outcome.backupId} of ${source.name} was made, but the vault's freshness anchor was not updated: ${describeError(err)}`);
      }
    }
    for (const d of outcome.destinations) {
      if (d.ok) {
        // A chunked destination got only what it lacked: say how much of the backup that was.
        const what = d.objects !== undefined && d.objects > 1 ? `uploaded ${bytesText(d.uploaded ?? 0)} of ${bytesText(outcome.plainSize)}) to` : `${plural(outcome.size, 'byte')}) uploaded to`;
        log.info(
          `backup ${outcome.backupId} of ${source.name} (generation ${outcome.generation}, ${plural(outcome.archive.files, 'file')}, ${what} ${d.destination} and verified` +
            (d.removed.length ? `; removed ${plural(d.removed.length, 'older backup')}` : ''),
        );
      } else {
        allOk = false;
        log.error(`backup of ${source.name} to ${d.destination} failed: ${d.error}`);
      }
    }
  }
  return allOk;
}
