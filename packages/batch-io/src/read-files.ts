import { getSystemErrorName } from 'node:util';
import type { BatchIoAddon } from './addon.js';

/** What one file of a batch read turned out to be. */
export type FileRead =
  /** Read: `bytesRead` bytes (the rest of its buffer zero-filled), then its size and mtime. */
  | { readonly ok: true; readonly bytesRead: number; readonly size: number; readonly mtimeMs: number }
  /** Not read: an errno code (EISDIR for a folder), or NOT_A_FILE for a FIFO, socket or device. */
  | { readonly ok: false; readonly code: string };

export const NOT_A_FILE = 'NOT_A_FILE';
const FIELDS = 4;
const NOT_A_FILE_STATUS = -1_000_000; // native/batch_io.c

export interface ReadRequest {
  readonly path: string;
  /** Filled from the file's start: exactly its length, or up to end of file and zeros after. */
  readonly buffer: Uint8Array;
}

/**
 * Opens (O_NOFOLLOW), reads and fstats each file, in one thread-pool job. A file is never
 * followed through a symlink, and something swapped for a FIFO or device is not opened for reading
 * (NOT_A_FILE). Files are read 32 at a time from the page cache, and what it does not hold is asked
 * of the disk for all 32 at once (posix_fadvise) before it is waited for. Rejects only on bad
 * arguments; each file's failure is its own result.
 */
export async function readFiles(addon: BatchIoAddon, files: readonly ReadRequest[]): Promise<FileRead[]> {
  if (files.length === 0) return []; // nothing to queue a job for
  const results = new Float64Array(files.length * FIELDS);
  await addon.readFiles(files.map((f) => f.path).join('\0'), files.map((f) => f.buffer), results);
  return files.map((_, i): FileRead => {
    const status = results[i * FIELDS]!;
    if (status === NOT_A_FILE_STATUS) return { ok: false, code: NOT_A_FILE };
    if (status < 0) return { ok: false, code: getSystemErrorName(status) };
    // As Node computes Stats.mtimeMs, so that it compares equal to an lstat's.
    const mtimeMs = results[i * FIELDS + 2]! * 1e3 + results[i * FIELDS + 3]! / 1e6;
    return { ok: true, bytesRead: status, size: results[i * FIELDS + 1]!, mtimeMs };
  });
}
