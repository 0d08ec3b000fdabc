import { join } from 'node:path';
import { batchIoAddon, type BatchIoAddon } from '@coffer/batch-io';
import { AdaptiveIo } from './adaptive-io.js';
import type { BufferPool } from './buffer-pool.js';
import type { SlabAllocator } from './slab-allocator.js';
import { closeFd, loadEntry, readFd, SMALL_FILE_BYTES, unchanged, type LoadedEntry } from './load-entry.js';
import { loadBatch } from './load-batch.js';
import type { ArchiveEntry } from './scan.js';
import { END_OF_ARCHIVE, padding, tarHeader, type TarHeader } from './tar-layout.js';

/** Large files are streamed in pieces of this size. */
export const PIECE_BYTES = 1 << 20;

export interface ArchiveReport {
  files: number;
  bytes: number;
  /** Files whose size or mtime changed while they were read: their copy may be inconsistent. */
  readonly changed: string[];
  /** Files that disappeared between the scan and their read; left out of the archive. */
  readonly vanished: string[];
  /** Files that exist but could not be read (e.g. permissions), with the reason; left out. */
  readonly unreadable: string[];
  /** Sockets, devices, FIFOs: not archived. */
  readonly skipped: string[];
}

const READ_AHEAD_ENTRIES = 64;
const READ_AHEAD_BYTES = 16 << 20;
/** Small files loaded per thread-pool job, where the batched reader is built. */
const BATCH_ENTRIES = READ_AHEAD_ENTRIES / 2;

/** Entries by index: a `ScannedTree`, or an array. */
export interface EntryList {
  readonly length: number;
  at(index: number): ArchiveEntry | undefined;
}

export interface ArchiveBuffers {
  /** Where 1 MiB pieces of large files are read into. The archive's consumer releases them. */
  readonly pool?: BufferPool;
  /** Where small files up to `slabBytes` are read into. The archive's consumer frees them. */
  readonly slabs?: SlabAllocator;
  readonly slabBytes?: number;
}

export interface ArchiveOptions extends ArchiveBuffers {
  /**
   * The batched reader for small files (default: the addon, where built); null, or not built:
   * one file at a time through `io`.
   */
  readonly batchIo?: BatchIoAddon | null;
  /** How small files are opened and read without batches (default: blocking while the page cache serves them). */
  readonly io?: AdaptiveIo;
}

/**
 * A streamed pax tar of `root`: relative paths, modes, mtimes, symlinks as links, empty
 * directories. Entries are loaded a little ahead of the one being written (at most 64 entries and
 * 16 MiB of small files), because a folder of many small files is bound by the latency of opening
 * and reading each, not by bandwidth. Files larger than 1 MiB are streamed in 1 MiB pieces, so
 * memory stays bounded whatever the sizes.
 *
 * The chunks (headers, contents, padding) are each handed on once and never touched again.
 * Stopping early (`return()`, as a torn-down pipeline does) closes every file opened ahead.
 */
export async function* createArchive(root: string, entries: EntryList, report: ArchiveReport, options: ArchiveOptions = {}): AsyncGenerator<Buffer> {
  const { pool, slabs, slabBytes = 0, batchIo = batchIoAddon, io = new AdaptiveIo() } = options;
  const alloc = (size: number) => (slabs && size > 0 && size <= slabBytes ? slabs.alloc(size) : Buffer.allocUnsafe(size));
  const isSmallFile = (e: ArchiveEntry) => e.type === 'file' && e.size <= SMALL_FILE_BYTES;
  const ahead: Array<{ entry: ArchiveEntry; loaded: Promise<LoadedEntry> }> = [];
  let next = 0;
  let aheadBytes = 0;
  const queue = (entry: ArchiveEntry, loaded: Promise<LoadedEntry>) => {
    loaded.catch(() => {}); // awaited in order below; never an unhandled rejection meanwhile
    ahead.push({ entry, loaded });
  };
  let batch: ArchiveEntry[] = [];
  const loadBatched = () => {
    if (batch.length === 0) return;
    loadBatch(batchIo!, root, batch, alloc).forEach((loaded, i) => queue(batch[i]!, loaded));
    batch = [];
  };
  const readAhead = () => {
    while (next < entries.length && ahead.length + batch.length < READ_AHEAD_ENTRIES && aheadBytes < READ_AHEAD_BYTES) {
      const entry = entries.at(next++)!;
      if (isSmallFile(entry)) aheadBytes += entry.size;
      if (batchIo && isSmallFile(entry)) {
        batch.push(entry);
        if (batch.length === BATCH_ENTRIES) loadBatched();
        continue;
      }
      loadBatched(); // entries stay in order
      queue(entry, loadEntry(join(root, entry.rel), entry, alloc, io));
    }
    loadBatched();
  };
  try {
    for (let i = 0; i < entries.length; i++) {
      // Refill in bursts: topping up one at a time would leave one load in flight at once,
      // and each would wait out the thread pool's wake-up latency alone.
      if (ahead.length <= READ_AHEAD_ENTRIES / 2) readAhead();
      const { entry, loaded: loading } = ahead.shift()!;
      const loaded = await loading;
      if (isSmallFile(entry)) aheadBytes -= entry.size;
      const header: TarHeader = { name: entry.rel, mode: entry.mode, mtime: entry.mtime, type: entry.type };
      switch (loaded.kind) {
        case 'directory':
          yield* tarHeader(header);
          break;
        case 'symlink':
          yield* tarHeader({ ...header, linkname: loaded.linkname });
          break;
        case 'vanished':
          report.vanished.push(entry.rel);
          break;
        case 'unreadable':
          report.unreadable.push(`${entry.rel} (${loaded.code})`);
          break;
        case 'data':
          yield* tarHeader({ ...header, size: entry.size });
          if (entry.size > 0) yield loaded.data;
          yield* padding(entry.size);
          if (loaded.changed) report.changed.push(entry.rel);
          report.files += 1;
          report.bytes += entry.size;
          break;
        case 'open':
          yield* streamFile(loaded.fd, { ...header, size: entry.size }, entry, report, pool);
          yield* padding(entry.size);
          report.files += 1;
          report.bytes += entry.size;
          break;
      }
    }
    yield END_OF_ARCHIVE;
  } finally {
    // Large files opened ahead but never reached (the archive was stopped) are closed.
    for (const { loaded } of ahead.splice(0)) void loaded.then((l) => (l.kind === 'open' ? closeFd(l.fd) : undefined)).catch(() => {});
  }
}

/** Pieces of a large file read ahead of the one being handed on, so that reads overlap sealing. */
const PREFETCH_PIECES = 4;

/** Its header, then exactly `entry.size` bytes of an open file, zero-filled if it shrank; reports changes; closes it. */
async function* streamFile(fd: number, header: TarHeader, entry: ArchiveEntry, report: ArchiveReport, pool?: BufferPool): AsyncGenerator<Buffer> {
  const reads: Array<{ piece: Buffer; length: number; done: Promise<number> }> = [];
  let offset = 0;
  const readAhead = () => {
    while (reads.length < PREFETCH_PIECES && offset < entry.size) {
      // A buffer of its own per piece (fresh, or one the consumer released): what follows
      // holds on to what it was given until it is sent.
      const length = Math.min(PIECE_BYTES, entry.size - offset);
      const piece = pool && length === pool.size ? pool.take() : Buffer.allocUnsafe(length);
      const done = readFd(fd, piece, 0, length, offset).then((r) => r.bytesRead);
      done.catch(() => {}); // awaited in order below
      reads.push({ piece, length, done });
      offset += length;
    }
  };
  try {
    yield* tarHeader(header);
    let sent = 0;
    readAhead();
    while (reads.length > 0) {
      const { piece, length, done } = reads.shift()!;
      const bytesRead = await done;
      if (bytesRead < length) {
        // Short: the file shrank, or the read was cut short. What was read beyond is dropped, and
        // reading goes on right after these bytes until a read finds nothing.
        await Promise.allSettled(reads.splice(0).map((r) => r.done));
        offset = sent + bytesRead;
        if (bytesRead === 0) break;
      }
      readAhead();
      sent += bytesRead;
      // The whole piece, not a view of it, so that the pool knows it when it comes back.
      yield bytesRead === piece.length ? piece : piece.subarray(0, bytesRead);
    }
    if (sent < entry.size) {
      report.changed.push(entry.rel);
      const zeros = Buffer.alloc(Math.min(PIECE_BYTES, entry.size - sent));
      for (; sent < entry.size; sent += zeros.length) yield zeros.subarray(0, Math.min(zeros.length, entry.size - sent));
    } else if (!unchanged(fd, entry)) {
      report.changed.push(entry.rel);
    }
  } finally {
    // No read may still use the descriptor once it is closed: its number could be reused.
    await Promise.allSettled(reads.map((r) => r.done));
    closeFd(fd);
  }
}

export function newReport(skipped: string[] = []): ArchiveReport {
  return { files: 0, bytes: 0, changed: [], vanished: [], unreadable: [], skipped };
}
