import type { BatchIoAddon } from '@coffer/batch-io';
import { NOT_A_FILE, readFiles } from '@coffer/batch-io';
import { failure, type LoadedEntry } from './load-entry.js';
import type { ArchiveEntry } from './scan.js';

/**
 * Loads a batch of small files (see `loadEntry`), each into its own `buffer` of exactly its
 * scanned size, in one thread-pool job: for a folder of many small files, per-file calls from
 * this thread cost more than the reads.
 */
export async function loadBatch(addon: BatchIoAddon, batch: ReadonlyArray<{ entry: ArchiveEntry; buffer: Buffer }>): Promise<LoadedEntry[]> {
  const reads = await readFiles(addon, batch.map(({ entry, buffer }) => ({ path: entry.path, buffer })));
  return reads.map((read, i): LoadedEntry => {
    const { entry, buffer } = batch[i]!;
    if (!read.ok) return read.code === NOT_A_FILE ? { kind: 'vanished' } : failure(read.code);
    // Short: it shrank, and the rest is zeros. Otherwise it changed if its size or mtime did.
    const changed = read.bytesRead < entry.size || read.size !== entry.size || read.mtimeMs !== entry.mtimeMs;
    return { kind: 'data', data: buffer, changed };
  });
}
