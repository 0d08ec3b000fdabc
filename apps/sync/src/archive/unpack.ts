import { close, closeSync, constants, futimes, futimesSync, open, openSync, write, writeSync } from 'node:fs';
import { chmod, lutimes, mkdir, symlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { batchIoAddon, writeFiles, type BatchIoAddon, type WriteRequest } from '@coffer/batch-io';
import { CofferError, EXIT } from '../errors.js';
import type { Logger } from '../log.js';
import { tarEntries } from './tar-entries.js';

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

/**
 * An entry name as a path relative to the restore folder, or null if it would land outside it:
 * absolute, `..` anywhere, or a NUL byte. `.` segments and trailing slashes are dropped.
 */
export function safeRelative(name: string): string | null {
  if (name.includes('\0') || name.startsWith('/')) return null;
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return null;
  return parts.join('/');
}

/** `mode` is already filtered by the umask; creating with it leaves no window with a wider one. */
async function writeLargeFile(path: string, mode: number, mtime: Date, body: AsyncIterable<Buffer>): Promise<void> {
  const fd = await openFd(path, CREATE, mode);
  try {
    for await (const chunk of body) {
      for (let offset = 0; offset < chunk.length; ) offset += (await writeFd(fd, chunk, offset, chunk.length - offset)).bytesWritten;
    }
    await futimesFd(fd, mtime, mtime);
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

/** Small files written per thread-pool job, where the batched writer is built: at most this many or this many bytes. */
const BATCH_FILES = 64;
const BATCH_BYTES = 4 << 20;

/**
 * Writes small files in batches, one thread-pool job each, while the archive is parsed on:
 * per-file calls from this thread cost more than the writes. One batch is written while the next
 * fills. Without the addon, each file is written at once, blocking.
 */
class SmallFileWriter {
  private batch: WriteRequest[] = [];
  private bytes = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly addon: BatchIoAddon | null) {}

  async add(file: WriteRequest): Promise<void> {
    if (!this.addon) return writeSmallFile(file.path, file.mode, file.mtime, file.data as Buffer);
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
    this.writing = writeFiles(this.addon!, batch);
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
  readonly rel: string;
  readonly path: string;
  readonly mode: number;
  readonly mtime: Date;
  readonly target?: string;
}

/**
 * Extracts a tar stream into `root`, a new empty folder, and never writes outside it:
 * - every name must be relative and free of `..` (`safeRelative`); one that is not fails the
 *   whole restore, naming it, after the archive was read;
 * - symlinks are created last, once every file and folder is written, so nothing is ever
 *   written through one; a symlink inside another symlink's path, or over another entry, fails
 *   the restore too;
 * - files open with O_EXCL | O_NOFOLLOW.
 * Folders get their modes and times last, deepest first, so read-only folders still fill.
 * Modes are filtered by the umask, as tar does for a normal user. Resolves with the number of
 * entries restored.
 */
export async function unpack(source: AsyncIterable<Buffer>, root: string, log: Logger, batchIo: BatchIoAddon | null = batchIoAddon): Promise<number> {
  const small = new SmallFileWriter(batchIo);
  try {
    return await unpackWith(source, root, log, small);
  } finally {
    // A failed restore's folder is removed next: no batch may still be writing into it.
    await small.stop();
  }
}

async function unpackWith(source: AsyncIterable<Buffer>, root: string, log: Logger, small: SmallFileWriter): Promise<number> {
  const umask = process.umask();
  const unsafe: string[] = [];
  const folders: Deferred[] = [];
  const links: Deferred[] = [];
  const made = new Map<string, Promise<unknown>>();
  const ensureFolder = (path: string) => {
    let p = made.get(path);
    if (!p) made.set(path, (p = mkdir(path, { recursive: true, mode: 0o700 })));
    return p;
  };
  let entries = 0;
  for await (const entry of tarEntries(source, SMALL_FILE_BYTES)) {
    const h = entry.header;
    const rel = safeRelative(h.name);
    if (rel === null || (rel === '' && h.type !== 'directory')) {
      unsafe.push(h.name);
      continue;
    }
    const path = join(root, rel);
    const mode = (h.mode ?? 0o644) & 0o7777 & ~umask;
    const mtime = h.mtime ?? new Date();
    switch (h.type) {
      case 'directory':
        if (rel !== '') {
          await ensureFolder(path);
          folders.push({ rel, path, mode, mtime });
        }
        break;
      case 'symlink':
        links.push({ rel, path, mode, mtime, target: h.linkname ?? '' });
        break;
      case 'file':
      case 'contiguous-file': {
        await ensureFolder(dirname(path));
        if (entry.pieces) await writeLargeFile(path, mode, mtime, entry.pieces);
        else await small.add({ path, mode, mtime, data: entry.data! });
        break;
      }
      default:
        log.warn(`restore: ${h.name} is a ${h.type ?? 'unknown'} entry; not restored`);
        continue;
    }
    entries += 1;
  }
  await small.settled();
  if (unsafe.length > 0) throw unsafeArchive(unsafe);

  const linkPaths = new Set(links.map((l) => l.rel));
  for (const link of links) {
    const parts = link.rel.split('/');
    const inside = parts.slice(0, -1).some((_, i) => linkPaths.has(parts.slice(0, i + 1).join('/')));
    try {
      if (inside) throw Object.assign(new Error('inside a symlink'), { code: 'ELOOP' });
      await ensureFolder(dirname(link.path));
      await symlink(link.target!, link.path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ELOOP' && code !== 'EEXIST') throw err;
      throw new CofferError('UNSAFE_ARCHIVE', `the backup holds a symlink that overlaps another entry (${link.rel})`, EXIT.failure);
    }
    await lutimes(link.path, link.mtime, link.mtime);
  }
  folders.sort((a, b) => b.rel.split('/').length - a.rel.split('/').length);
  for (const folder of folders) {
    await chmod(folder.path, folder.mode);
    await utimes(folder.path, folder.mtime, folder.mtime);
  }
  return entries;
}

/**
 * Parses a tar stream to its end without writing anything; resolves with its entry count. Names
 * that would land outside a restore folder fail it, as they would fail a restore. (Symlinks that
 * overlap other entries are caught by the restore itself, which needs the folder to see them.)
 */
export async function countEntries(source: AsyncIterable<Buffer>): Promise<number> {
  const unsafe: string[] = [];
  let entries = 0;
  // Nothing is kept: contents are skipped as they come, whatever their size.
  for await (const entry of tarEntries(source, 0)) {
    if (safeRelative(entry.header.name) === null) unsafe.push(entry.header.name);
    entries += 1;
  }
  if (unsafe.length > 0) throw unsafeArchive(unsafe);
  return entries;
}

function unsafeArchive(names: string[]): CofferError {
  return new CofferError('UNSAFE_ARCHIVE', `the backup holds entries that would land outside the restore folder: ${names.slice(0, 3).join('; ')}`, EXIT.failure);
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

