import { batchIoAddon, type BatchIoAddon } from '@coffer/batch-io';
import { AdaptiveIo } from './adaptive-io.js';
import type { BufferPool } from './buffer-pool.js';
import { closeFd, loadEntry, readFd, SMALL_FILE_BYTES, unchanged, type LoadedEntry } from './load-entry.js';
import { loadBatch } from './load-batch.js';
import type { EntryStream } from './entry-stream.js';
import type { ArchiveEntry } from './scan.js';
import { END_OF_ARCHIVE, padding, padLength, tarHeader, type TarHeader } from './tar-layout.js';
import { BLOCK, fitsOneBlock, writeBlock } from './ustar-block.js';

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

/** Files smaller than this are packed, with their headers, into shared pieces (see `Run`). */
const PACKED_FILE_BYTES = 256 << 10;

/** Loaded ahead at most: entries (a run counts as one), and bytes (small files and runs' pieces). */
const READ_AHEAD_ENTRIES = 64;
const READ_AHEAD_BYTES = 8 << 20;
/** Entries per run at most: its files are read in one thread-pool job where the batched reader is built. */
const RUN_ENTRIES = 256;

export interface ArchiveOptions {
  /**
   * Where the pieces come from: packed runs of small files and folders, and 1 MiB pieces of large
   * files. The archive's consumer releases them.
   */
  readonly pool?: BufferPool;
  /**
   * The batched reader for small files (default: the addon, where built); null, or not built:
   * one file at a time through `io`.
   */
  readonly batchIo?: BatchIoAddon | null;
  /** How small files are opened and read without batches (default: blocking while the page cache serves them). */
  readonly io?: AdaptiveIo;
}

/** An entry loaded on its own: a symlink, or a file too large to pack. */
interface Single {
  readonly entry: ArchiveEntry;
  readonly loaded: Promise<LoadedEntry>;
  /** Bytes read ahead for it (a small file's size). */
  readonly bytes: number;
}

/**
 * Folders and small files laid out in one piece as the archive holds them: each header, content
 * and padding in turn. Headers and sizes are the scanned ones, so the layout is known before the
 * files are read straight into their places; the piece then goes on as one chunk, with no copy
 * and no chunk of its own for each header, file and padding.
 */
interface Run {
  readonly piece: Buffer;
  used: number;
  /** Each entry's bytes in the piece, header to padding, and a file's content. */
  readonly slots: Array<{ readonly entry: ArchiveEntry; readonly start: number; readonly end: number; readonly data?: Buffer }>;
  /** Bytes read ahead for it: its piece. */
  readonly bytes: number;
  loaded?: Promise<LoadedEntry[]>;
}

const isRun = (item: Single | Run): item is Run => 'slots' in item;

/** The header fields of a scanned entry. */
const headerOf = (entry: ArchiveEntry): TarHeader => ({
  name: entry.rel,
  mode: entry.mode,
  mtimeMs: entry.mtimeMs,
  type: entry.type,
  ...(entry.type === 'file' ? { size: entry.size } : {}),
});

/**
 * A streamed pax tar of what a scan finds: relative paths, modes, mtimes, symlinks as links, empty
 * directories, in the order the scan hands them over (`entries`). Entries are loaded a little
 * ahead of the one being written (at most 64 entries or runs, and 8 MiB of small files and runs),
 * because a folder of many small files is bound by the latency of opening and reading each, not
 * by bandwidth. Folders and files under 256 KiB are packed into pieces (`Run`); files larger than
 * 1 MiB are streamed in 1 MiB pieces, so memory stays bounded whatever the sizes and the count.
 *
 * The chunks are each handed on once and never touched again; no two are views of one buffer.
 * Stopping early (`return()`, as a torn-down pipeline does) stops the scan and closes every file
 * opened ahead.
 */
export async function* createArchive(entries: EntryStream, report: ArchiveReport, options: ArchiveOptions = {}): AsyncGenerator<Buffer> {
  const { pool, batchIo = batchIoAddon, io = new AdaptiveIo() } = options;
  const ahead: Array<Single | Run> = [];
  let aheadBytes = 0;
  /** The run being filled: its files are read once it is full, or reached. */
  let run: Run | undefined;
  const closeRun = () => {
    if (!run) return;
    const files = run.slots.filter((slot) => slot.data);
    run.loaded = batchIo
      ? loadBatch(batchIo, files.map(({ entry, data }) => ({ entry, buffer: data! })))
      : Promise.all(files.map(({ entry, data }) => loadEntry(entry.path, entry, () => data!, io)));
    run.loaded.catch(() => {}); // awaited in order below; never an unhandled rejection meanwhile
    run = undefined;
  };
  /** Lays a folder or small file out in the current run, or a new one; false if it fits in none. */
  const pack = (entry: ArchiveEntry): boolean => {
    const header = headerOf(entry);
    // One block, written in place; or, rarely (long or non-ASCII names), tar-stream's blocks.
    const blocks = fitsOneBlock(header) ? undefined : tarHeader(header);
    const headerBytes = blocks ? blocks.reduce((n, block) => n + block.length, 0) : BLOCK;
    const size = entry.type === 'file' ? entry.size : 0;
    const length = headerBytes + size + padLength(size);
    if (length > PIECE_BYTES) return false;
    if (run && (run.slots.length === RUN_ENTRIES || run.used + length > run.piece.length)) closeRun();
    if (!run) {
      run = { piece: pool?.take() ?? Buffer.allocUnsafe(PIECE_BYTES), used: 0, slots: [], bytes: PIECE_BYTES };
      ahead.push(run);
      aheadBytes += PIECE_BYTES;
    }
    const { piece } = run;
    const start = run.used;
    if (blocks) {
      for (const block of blocks) {
        piece.set(block, run.used);
        run.used += block.length;
      }
    } else {
      writeBlock(piece, run.used, header);
      run.used += BLOCK;
    }
    const data = entry.type === 'file' ? piece.subarray(run.used, run.used + size) : undefined;
    piece.fill(0, run.used + size, start + length); // the padding: the piece held other bytes before
    run.used = start + length;
    run.slots.push({ entry, start, end: run.used, data });
    return true;
  };
  const readAhead = () => {
    while (ahead.length < READ_AHEAD_ENTRIES && aheadBytes < READ_AHEAD_BYTES) {
      const entry = entries.take();
      if (!entry) break;
      if ((entry.type === 'directory' || (entry.type === 'file' && entry.size < PACKED_FILE_BYTES)) && pack(entry)) continue;
      closeRun(); // entries stay in order
      const bytes = entry.type === 'file' && entry.size <= SMALL_FILE_BYTES ? entry.size : 0;
      aheadBytes += bytes;
      const loaded = loadEntry(entry.path, entry, Buffer.allocUnsafe, io);
      loaded.catch(() => {}); // awaited in order below
      ahead.push({ entry, loaded, bytes });
    }
    if (entries.done) closeRun();
  };
  try {
    for (;;) {
      // Refill in bursts: topping up one at a time would leave one load in flight at once,
      // and each would wait out the thread pool's wake-up latency alone.
      if (ahead.length <= READ_AHEAD_ENTRIES / 2 && aheadBytes <= READ_AHEAD_BYTES / 2) readAhead();
      const item = ahead.shift();
      if (!item) {
        if (entries.done) break;
        await entries.ready(); // caught up with the scan
        continue;
      }
      if (item === run) closeRun(); // reached before it was full
      aheadBytes -= item.bytes;
      if (isRun(item)) yield* emitRun(item, report, pool);
      else yield* emitSingle(item, await item.loaded, report, pool);
    }
    yield END_OF_ARCHIVE;
  } finally {
    entries.stop();
    // Large files opened ahead but never reached (the archive was stopped) are closed.
    for (const item of ahead.splice(0)) {
      if (!isRun(item)) void item.loaded.then((l) => (l.kind === 'open' ? closeFd(l.fd) : undefined)).catch(() => {});
    }
  }
}

/** Counts a loaded file in the report, or notes why it was left out; whether it is in the archive. */
function account(entry: ArchiveEntry, loaded: LoadedEntry, report: ArchiveReport): boolean {
  if (loaded.kind === 'vanished') report.vanished.push(entry.rel);
  else if (loaded.kind === 'unreadable') report.unreadable.push(`${entry.rel} (${loaded.code})`);
  else {
    if (loaded.kind === 'data' && loaded.changed) report.changed.push(entry.rel);
    report.files += 1;
    report.bytes += entry.size;
    return true;
  }
  return false;
}

/** A run's piece, once its files are read; without the entries of files that could not be. */
async function* emitRun(run: Run, report: ArchiveReport, pool?: BufferPool): AsyncGenerator<Buffer> {
  const loaded = await run.loaded!;
  let file = 0;
  const kept = run.slots.filter((slot) => !slot.data || account(slot.entry, loaded[file++]!, report));
  if (kept.length === run.slots.length) {
    yield run.used === run.piece.length ? run.piece : run.piece.subarray(0, run.used);
    return;
  }
  // Rare: a file vanished or cannot be read, and its header goes with it. What is kept is copied
  // out, so that no two chunks are views of one piece, and the piece goes back at once.
  const rest = Buffer.concat(kept.map((slot) => run.piece.subarray(slot.start, slot.end)));
  pool?.release(run.piece);
  if (rest.length > 0) yield rest;
}

/** An entry loaded on its own. */
async function* emitSingle({ entry }: Single, loaded: LoadedEntry, report: ArchiveReport, pool?: BufferPool): AsyncGenerator<Buffer> {
  const header = headerOf(entry);
  switch (loaded.kind) {
    case 'directory':
      yield* tarHeader(header);
      break;
    case 'symlink':
      yield* tarHeader({ ...header, linkname: loaded.linkname });
      break;
    case 'vanished':
    case 'unreadable':
      account(entry, loaded, report);
      break;
    case 'data':
      yield* tarHeader(header);
      if (entry.size > 0) yield loaded.data;
      yield* padding(entry.size);
      account(entry, loaded, report);
      break;
    case 'open':
      yield* streamFile(loaded.fd, header, entry, report, pool);
      yield* padding(entry.size);
      account(entry, loaded, report);
      break;
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
