import type { BatchIoAddon } from '@coffer/batch-io';
import { NOT_A_FILE, readFiles } from '@coffer/batch-io';
import { join } from 'node:path';
import { failure, type LoadedEntry } from './load-entry.js';
import type { ArchiveEntry } from './scan.js';

/**
 * Loads a batch of small files (see `loadEntry`) in one thread-pool job: for a folder of many
 * small files, per-file calls from this thread cost more than the reads. One promise per entry,
 * all settling together.
 */
export function loadBatch(addon: BatchIoAddon, root: string, batch: readonly ArchiveEntry[], alloc: (size: number) => Buffer): Promise<LoadedEntry>[] {
  const buffers = batch.map((e) => alloc(e.size));
  const reading = readFiles(addon, batch.map((e, i) => ({ path: join(root, e.rel), buffer: buffers[i]! })));
  return batch.map(async (entry, i): Promise<LoadedEntry> => {
    const read = (await reading)[i]!;
    if (!read.ok) return read.code === NOT_A_FILE ? { kind: 'vanished' } : failure(read.code);
    // Short: it shrank, and the rest is zeros. Otherwise it changed if its size or mtime did.
    const changed = read.bytesRead < entry.size || read.size !== entry.size || read.mtimeMs !== entry.mtimeMs;
    return { kind: 'data', data: buffers[i]!, changed };
  });
}
