import { closeSync, constants, existsSync, fstatSync, open, openSync, read, readlinkSync, readSync } from 'node:fs';
import { sep } from 'node:path';
import { readlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { AdaptiveIo } from './adaptive-io.js';
import type { ArchiveEntry } from './scan.js';

// Plain file descriptors rather than FileHandle: for many small files, the FileHandle wrappers
// cost twice the main-thread time per file. Only open and read, which may wait for the disk, go
// through the thread pool; fstat and close of an open file never do, and each trip through the
// pool costs the main thread more than the system call itself.
const openFd = promisify(open);
export const readFd = promisify(read);
export const closeFd = (fd: number): void => closeSync(fd);

/** Files up to this size are read whole, ahead of time; larger ones are streamed when reached. */
export const SMALL_FILE_BYTES = 1 << 20;

/** What an entry's content turned out to be when it was loaded. */
export type LoadedEntry =
  | { readonly kind: 'directory' }
  | { readonly kind: 'symlink'; readonly linkname: string }
  /** A small file, read whole: exactly `entry.size` bytes (zero-filled if it shrank). */
  | { readonly kind: 'data'; readonly data: Buffer; readonly changed: boolean }
  /** A large file, open and not yet read. */
  | { readonly kind: 'open'; readonly fd: number }
  /** Gone since the scan (or replaced by something that is not a file). */
  | { readonly kind: 'vanished' }
  /** There, but unreadable (e.g. permissions): `code` is the errno code. */
  | { readonly kind: 'unreadable'; readonly code: string };

const GONE = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

/** A failed open or read, by its errno code: gone since the scan, or unreadable. */
export function failure(code = 'EIO'): LoadedEntry {
  return GONE.has(code) ? { kind: 'vanished' } : { kind: 'unreadable', code };
}

const failed = (err: unknown): LoadedEntry => failure((err as NodeJS.ErrnoException).code);

/** Whether the open file still has the size and mtime the scan saw. */
export function unchanged(fd: number, entry: ArchiveEntry): boolean {
  const after = fstatSync(fd);
  return after.size === entry.size && after.mtimeMs === entry.mtimeMs;
}

/** Where Linux names open files, if it is mounted. */
const PROC_FD = existsSync('/proc/self/fd') ? '/proc/self/fd' : null;
const FOLDER_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * Whether an open file is the one at `path` (symlink-free, as the scan gives it) reached through
 * no symlink: a folder on the way swapped for a link to elsewhere must not let a file from outside
 * the source in. Linux names an open file's path in /proc; without it, O_NOFOLLOW covers only the
 * last component.
 */
function reachedDirectly(fd: number, path: string): boolean {
  if (!PROC_FD) return true;
  try {
    return readlinkSync(`${PROC_FD}/${fd}`) === path;
  } catch {
    return true; // nothing to check against
  }
}

/**
 * A symlink's target, read through its folder as opened (as readlinkat would): a folder on the
 * way swapped for a link to elsewhere must not let a link from outside the source in.
 */
async function readLink(path: string, io: AdaptiveIo): Promise<string> {
  if (!PROC_FD) return io.run(() => readlinkSync(path), () => readlink(path));
  const cut = path.lastIndexOf(sep);
  const folder = path.slice(0, cut) || sep;
  const fd = await io.run(() => openSync(folder, FOLDER_FLAGS), () => openFd(folder, FOLDER_FLAGS));
  try {
    if (!reachedDirectly(fd, folder)) throw Object.assign(new Error(`ELOOP: ${path}`), { code: 'ELOOP' });
    const link = `${PROC_FD}/${fd}/${path.slice(cut + 1)}`;
    return await io.run(() => readlinkSync(link), () => readlink(link));
  } finally {
    closeFd(fd);
  }
}

/**
 * Loads one scanned entry; a small file's bytes go into a buffer from `alloc`, through `io`
 * (blocking or on the thread pool). A file swapped for a symlink since the scan, or reached
 * through one, is not read: it is reported as vanished.
 */
export async function loadEntry(
  path: string,
  entry: ArchiveEntry,
  alloc: (size: number) => Buffer = Buffer.allocUnsafe,
  io = new AdaptiveIo(false),
): Promise<LoadedEntry> {
  if (entry.type === 'directory') return { kind: 'directory' };
  if (entry.type === 'symlink') {
    try {
      return { kind: 'symlink', linkname: await readLink(path, io) };
    } catch (err) {
      return failed(err);
    }
  }
  let fd: number;
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW;
  try {
    fd = await io.run(() => openSync(path, flags), () => openFd(path, flags));
  } catch (err) {
    return failed(err);
  }
  if (!reachedDirectly(fd, path)) {
    closeFd(fd);
    return { kind: 'vanished' };
  }
  if (entry.size > SMALL_FILE_BYTES) return { kind: 'open', fd };
  try {
    const data = alloc(entry.size);
    let filled = 0;
    while (filled < entry.size) {
      const [at, length] = [filled, entry.size - filled];
      const bytesRead = await io.run(
        () => readSync(fd, data, at, length, at),
        async () => (await readFd(fd, data, at, length, at)).bytesRead,
      );
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    // Shrank since the scan: the rest becomes zeros, and the change is reported.
    if (filled < entry.size) return { kind: 'data', data: data.fill(0, filled), changed: true };
    return { kind: 'data', data, changed: !unchanged(fd, entry) };
  } catch (err) {
    return failed(err);
  } finally {
    closeFd(fd);
  }
}
