import { close, closeSync, constants, futimes, futimesSync, open, openSync, write, writeSync } from 'node:fs';
import { chmod, lutimes, mkdir, symlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { batchIoAddon, writeFiles, type BatchIoAddon, type WriteRequest } from '@coffer/batch-io';
import { CofferError, EXIT, systemErrorText } from '../errors.js';
import type { Logger } from '../log.js';
import { plural } from '../plural.js';
import { ArchiveStructure, PATH_MAX, shown } from './structure.js';
import { tarEntries } from './tar-entries.js';

export { safeRelative } from './structure.js';

const openFd = promisify(open);
const writeFd = promisify(write);
const futimesFd = promisify(futimes);
const closeFd = promisify(close);

/**
 * Files up to this size are written whole with blocking calls: for many small files, the thread
 * pool's round trips and its threads contending for one folder cost more than they save.
 * Larger files are streamed.
 */
const SMALL_FILE_BYTES = 1 << 20;

// O_EXCL and O_NOFOLLOW: never write into something that already exists, least of all a link.
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** The setuid and setgid bits: cleared on restore unless asked to keep them. The sticky bit is kept. */
const SET_ID_BITS = 0o6000;

/**
 * A system call's failure while writing `name` (as the backup stores it) as one line naming the
 * entry, not the temporary path it was written to; anything else passes through unchanged.
 */
function cannotRestore(name: string, err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof e.code !== 'string' || typeof e.syscall !== 'string') return err;
  const why =
    e.code === 'EEXIST'
      ? 'another entry already has that name on this file system (names that differ only in case or Unicode form are one name on some)'
      : e.code === 'ENAMETOOLONG'
        ? 'its name is too long for this file system'
        : systemErrorText(e);
  return new CofferError('RESTORE_WRITE', `cannot restore ${shown(name)}: ${why}`, EXIT.failure, { cause: err });
}

/** Runs a file system call for the entry `name`, its failure reported by `cannotRestore`. */
async function writing<T>(name: string, call: () => Promise<T> | T): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw cannotRestore(name, err);
  }
}

/**
 * `mode` is already filtered by the umask; creating with it leaves no window with a wider one.
 * Failures of the file system name the entry; those of `body` (the backup) pass through.
 */
async function writeLargeFile(name: string, path: string, mode: number, mtime: Date, body: AsyncIterable<Buffer>): Promise<void> {
  const fd = await writing(name, () => openFd(path, CREATE, mode));
  try {
    for await (const chunk of body) {
      for (let offset = 0; offset < chunk.length; ) offset += (await writing(name, () => writeFd(fd, chunk, offset, chunk.length - offset))).bytesWritten;
    }
    await writing(name, () => futimesFd(fd, mtime, mtime));
  } finally {
    await closeFd(fd);
  }
}

function writeSmallFile(path: string, mode: number, mtime: Date, body: Buffer): void {
  const fd = openSync(path, CREATE, mode);
  try {
    for (let offset = 0; offset < body.length; ) offset += writeSync(fd, body, offset, body.length - offset);
    futimesSync(fd, mtime, mtime);
  } finally {
    closeSync(fd);
  }
}

/** A small file to write, with its name as the backup stores it (for messages). */
interface SmallFile extends WriteRequest {
  readonly name: string;
}

/** Small files written per thread-pool job, where the batched writer is built: at most this many or this many bytes. */
const BATCH_FILES = 64;
const BATCH_BYTES = 4 << 20;

/**
 * Writes small files in batches, one thread-pool job each, while the archive is parsed on:
 * per-file calls from this thread cost more than the writes. One batch is written while the next
 * fills. Without the addon, each file is written at once, blocking.
 */
class SmallFileWriter {
  private batch: SmallFile[] = [];
  private bytes = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly addon: BatchIoAddon | null) {}

  async add(file: SmallFile): Promise<void> {
    if (!this.addon) return writing(file.name, () => writeSmallFile(file.path, file.mode, file.mtime, file.data as Buffer));
    this.batch.push(file);
    this.bytes += file.data.length;
    if (this.batch.length >= BATCH_FILES || this.bytes >= BATCH_BYTES) await this.flush();
  }

  /** Starts writing what is queued once the batch before it is written; rejects with the first failure. */
  async flush(): Promise<void> {
    await this.writing;
    if (this.batch.length === 0) return;
    const batch = this.batch;
    [this.batch, this.bytes] = [[], 0];
    this.writing = writeFiles(this.addon!, batch).catch((err: unknown) => {
      throw cannotRestore(batch.find((f) => f.path === (err as { path?: string }).path)?.name ?? '?', err);
    });
    this.writing.catch(() => {}); // awaited by the next flush, or by `settled`
  }

  /** Every queued file written, or the first failure; the writer then never writes again. */
  async settled(): Promise<void> {
    await this.flush();
    await this.writing;
  }

  /** Waits until no batch is being written (on failure: before the folder is removed). */
  async stop(): Promise<void> {
    this.batch = [];
    await this.writing.catch(() => {});
  }
}

interface Deferred {
  readonly name: string;
  readonly rel: string;
  readonly path: string;
  readonly mode: number;
  readonly mtime: Date;
  readonly target?: string;
}

export interface UnpackOptions {
  /** Restore the setuid and setgid bits too (they are cleared by default). */
  readonly keepSpecialBits?: boolean;
  /** The folder `root` becomes, as the user named it: for the message when a path does not fit under it. */
  readonly shownAs?: string;
}

/**
 * Extracts a tar stream into `root`, a new empty folder, and never writes outside it: each entry
 * passes `ArchiveStructure` (the checks `verify` runs) before anything of it is written, so a
 * name outside the folder, an entry twice, a file and a folder with one name, anything inside a
 * symlink or names too long fail the restore, naming the entry. Symlinks are created last, once
 * every file and folder is written, so nothing is ever written through one; files open with
 * O_EXCL | O_NOFOLLOW. Folders get their modes and times last, deepest first, so read-only
 * folders still fill. Modes are filtered by the umask, as tar does for a normal user, and lose
 * their setuid and setgid bits unless `keepSpecialBits` (a backup's author, who may hold only a
 * write-only key, must not plant a setuid-root program by way of a restore run as root).
 * Resolves with the number of entries restored.
 */
export async function unpack(source: AsyncIterable<Buffer>, root: string, log: Logger, batchIo: BatchIoAddon | null = batchIoAddon, options: UnpackOptions = {}): Promise<number> {
  const small = new SmallFileWriter(batchIo);
  try {
    return await unpackWith(source, root, log, small, options);
  } finally {
    // A failed restore's folder is removed next: no batch may still be writing into it.
    await small.stop();
  }
}

async function unpackWith(source: AsyncIterable<Buffer>, root: string, log: Logger, small: SmallFileWriter, options: UnpackOptions): Promise<number> {
  const umask = process.umask();
  // A path inside `root` must fit PATH_MAX together with root's own path and a slash.
  const structure = new ArchiveStructure(PATH_MAX - Buffer.byteLength(root) - 1, options.shownAs ?? root);
  const folders: Deferred[] = [];
  const links: Deferred[] = [];
  /** Files whose setuid/setgid bits are kept: set once written (a write by a non-root user clears them). */
  const setIdFiles: Deferred[] = [];
  const cleared: string[] = [];
  const made = new Map<string, Promise<unknown>>();
  const ensureFolder = (name: string, path: string) => {
    let p = made.get(path);
    if (!p) made.set(path, (p = mkdir(path, { recursive: true, mode: 0o700 })));
    return writing(name, () => p);
  };
  let entries = 0;
  for await (const entry of tarEntries(source, SMALL_FILE_BYTES)) {
    const h = entry.header;
    const rel = structure.add(h);
    if (rel === null) {
      log.warn(`restore: ${shown(h.name)} is a ${h.type ?? 'unknown'} entry; not restored`);
      continue;
    }
    const name = h.name;
    const path = join(root, rel);
    let mode = (h.mode ?? 0o644) & 0o7777 & ~umask;
    if (mode & SET_ID_BITS && !options.keepSpecialBits && h.type !== 'symlink') {
      mode &= ~SET_ID_BITS;
      cleared.push(name);
    }
    const mtime = h.mtime ?? new Date();
    switch (h.type) {
      case 'directory':
        if (rel !== '') {
          await ensureFolder(name, path);
          folders.push({ name, rel, path, mode, mtime });
        }
        break;
      case 'symlink':
        links.push({ name, rel, path, mode, mtime, target: h.linkname! });
        break;
      default: {
        // A file (the structure check passes only files, folders and symlinks on).
        await ensureFolder(name, dirname(path));
        if (mode & SET_ID_BITS) setIdFiles.push({ name, rel, path, mode, mtime });
        const created = mode & ~SET_ID_BITS;
        if (entry.pieces) await writeLargeFile(name, path, created, mtime, entry.pieces);
        else await small.add({ name, path, mode: created, mtime, data: entry.data! });
        break;
      }
    }
    entries += 1;
  }
  await small.settled();
  // No symlink exists yet, and every folder is still writable and ours.
  for (const file of setIdFiles) await writing(file.name, () => chmod(file.path, file.mode));
  for (const link of links) {
    await ensureFolder(link.name, dirname(link.path));
    await writing(link.name, () => symlink(link.target!, link.path));
    await writing(link.name, () => lutimes(link.path, link.mtime, link.mtime));
  }
  folders.sort((a, b) => b.rel.split('/').length - a.rel.split('/').length);
  for (const folder of folders) {
    await writing(folder.name, () => chmod(folder.path, folder.mode));
    await writing(folder.name, () => utimes(folder.path, folder.mtime, folder.mtime));
  }
  if (cleared.length > 0) {
    log.warn(`restore: cleared the setuid/setgid bits of ${plural(cleared.length, 'entry', 'entries')} (pass --keep-special-bits to keep them), e.g. ${shown(cleared[0]!)}`);
  }
  return entries;
}

/**
 * Parses a tar stream to its end without writing anything; resolves with its entry count. Every
 * entry passes the same structural checks as in a restore (`ArchiveStructure`), so a backup
 * that verifies restores (into a folder whose own path leaves room for its longest path).
 */
export async function countEntries(source: AsyncIterable<Buffer>): Promise<number> {
  const structure = new ArchiveStructure();
  let entries = 0;
  // Contents are skipped as they come, whatever their size; only names are kept.
  for await (const entry of tarEntries(source, 0)) {
    structure.add(entry.header);
    entries += 1;
  }
  return entries;
}

/**
 * Passes a plain tar through, and gunzips a compressed one (gzip magic 1f 8b first; a tar starts
 * with an entry name, never with those bytes). Zeros of Padmé padding after the gzip member are
 * ignored by zlib.
 */
export async function* gunzipIfCompressed(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  async function* all() {
    yield first.value as Buffer;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  }
  if (first.value[0] === 0x1f && first.value[1] === 0x8b) yield* Readable.from(all()).pipe(createGunzip()) as AsyncIterable<Buffer>;
  else yield* all();
}

