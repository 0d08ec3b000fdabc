import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, realpath, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { batchIoAddon, writeAt, type BatchIoAddon } from '@coffer/batch-io';
import type { GetOptions, ObjectInfo, PutOptions, PutResult, StorageBackend, StorageCapabilities } from '../backend.js';
import { abortedError, bodyError, throwIfAborted } from '../abort.js';
import { crc32Hex, createChecksum } from '../checksum.js';
import { isStorageError, StorageError, type StorageErrorCode } from '../errors.js';
import { validateKey, validatePrefix } from '../object-key.js';
import { resolveRange } from '../range.js';
import { verifyLength } from '../verify-length.js';
import { isAbandoned, tempName } from './temp-name.js';

const FLUSH_EVERY_BYTES = 32 << 20;

/** Uploads in progress live here, invisible to `list`, and are swept by `cleanupIncomplete`. */
export const LOCAL_TEMP_DIR = '.coffer-incomplete';

export interface LocalBackendOptions {
  /** The folder that holds the objects; created if missing. */
  readonly root: string;
  /**
   * Writes each chunk and takes its CRC-32 in one thread-pool job (default: the addon, where
   * built); null, or not built: writes through the file handle and the CRC-32 on this thread.
   */
  readonly batchIo?: BatchIoAddon | null;
}

/** Maps filesystem errors to storage errors. Disk full and permissions are permanent (restic). */
export function fsError(err: unknown, backend: string, key: string | undefined): StorageError {
  if (isStorageError(err)) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  const table: Record<string, [StorageErrorCode, string]> = {
    ENOENT: ['NOT_FOUND', 'no such object'],
    ENOSPC: ['QUOTA_EXCEEDED', 'the disk is full'],
    EDQUOT: ['QUOTA_EXCEEDED', 'the disk quota is exceeded'],
    EFBIG: ['QUOTA_EXCEEDED', 'the file is too large for this filesystem'],
    EACCES: ['PERMISSION_DENIED', 'permission denied'],
    EPERM: ['PERMISSION_DENIED', 'operation not permitted'],
    EROFS: ['PERMISSION_DENIED', 'the filesystem is read-only'],
    ENOTDIR: ['INVALID_ARGUMENT', 'a part of the path is a file, not a folder'],
    EISDIR: ['INVALID_ARGUMENT', 'the path is a folder, not a file'],
    EEXIST: ['INVALID_ARGUMENT', 'a file is in the way of a folder'],
    ENAMETOOLONG: ['INVALID_ARGUMENT', 'the name is too long for this filesystem'],
  };
  const [mapped, what] = table[code ?? ''] ?? ['TRANSIENT', `I/O error ${code ?? ''}`.trim()];
  return new StorageError(mapped, `${backend}: ${what}${key ? ` (${key})` : ''}`, { backend, key, cause: err, providerCode: code });
}

/**
 * Objects as files under a root folder. Writes go to a temporary file, are fsynced, renamed into
 * place and the directory fsynced, so a crash leaves either the old object or the new one.
 */
export class LocalBackend implements StorageBackend {
  readonly name: string;
  readonly capabilities: StorageCapabilities = {
    atomicWrites: true,
    // CRC-32 of the bytes written: it proves every byte handed to us reached the file in order,
    // at a fifth of SHA-256's cost; forgery is the backup format's job, not this check's.
    providerChecksum: 'crc32',
    resumableUploads: false,
    rangedReads: true,
  };
  private readonly root: string;
  private readonly batchIo: BatchIoAddon | null;

  constructor(options: LocalBackendOptions) {
    this.root = resolve(options.root);
    this.batchIo = options.batchIo === undefined ? batchIoAddon : options.batchIo;
    this.name = `local:${this.root}`;
  }

  /** Resolves a validated key to a path that cannot escape the root, even through symlinks. */
  private async pathFor(key: string, create = false): Promise<string> {
    validateKey(key, this.name);
    if (key === LOCAL_TEMP_DIR || key.startsWith(`${LOCAL_TEMP_DIR}/`)) {
      throw new StorageError('INVALID_KEY', `invalid object key ${JSON.stringify(key)}: reserved name`, { backend: this.name, key });
    }
    const path = resolve(this.root, key);
    const parent = dirname(path);
    if (create) await mkdir(parent, { recursive: true });
    let realParent: string;
    let realRoot: string;
    try {
      [realParent, realRoot] = await Promise.all([realpath(parent), realpath(this.root)]);
    } catch (err) {
      throw fsError(err, this.name, key);
    }
    if (realParent !== realRoot && !realParent.startsWith(realRoot + sep)) {
      throw new StorageError('INVALID_KEY', `object key ${JSON.stringify(key)} resolves outside the storage folder`, { backend: this.name, key });
    }
    return path;
  }

  async put(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    throwIfAborted(options.signal, this.name, key);
    let target: string;
    let tempDir: string;
    try {
      await mkdir(this.root, { recursive: true });
      target = await this.pathFor(key, true);
      tempDir = join(this.root, LOCAL_TEMP_DIR);
      await mkdir(tempDir, { recursive: true });
    } catch (err) {
      throw fsError(err, this.name, key);
    }
    const temp = join(tempDir, tempName());
    let handle: FileHandle | undefined;
    const native = this.batchIo;
    const checksum = createChecksum('crc32');
    let crc = 0; // native's
    let size = 0;
    // Write-back starts every 32 MiB instead of at the end: otherwise the whole object waits in
    // the page cache and the final fsync writes all of it while nothing else happens. One flush
    // at a time, so a slow disk slows the writer down rather than piling up dirty pages.
    let flushing: Promise<void> | undefined;
    let unflushed = 0;
    try {
      handle = await open(temp, 'wx', 0o600);
      for await (const chunk of body) {
        if (options.signal?.aborted) throw abortedError(this.name, key);
        if (native) {
          // Off this thread: a 600 MiB backup's CRC-32 here cost ~100 ms of it.
          crc = await writeAt(native, handle.fd, chunk, size, crc);
        } else {
          checksum.update(chunk);
          let written = 0;
          while (written < chunk.length) {
            const { bytesWritten } = await handle.write(chunk, written, chunk.length - written);
            written += bytesWritten;
          }
        }
        size += chunk.length;
        unflushed += chunk.length;
        if (unflushed >= FLUSH_EVERY_BYTES) {
          await flushing;
          unflushed = 0;
          flushing = handle.datasync();
          flushing.catch(() => {}); // awaited before the next flush or the final fsync
        }
        options.onProgress?.(size);
      }
      if (options.signal?.aborted) throw abortedError(this.name, key);
      await flushing;
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(temp, target);
      await fsyncDir(dirname(target));
    } catch (err) {
      await handle?.close().catch(() => {});
      await unlink(temp).catch(() => {});
      if (isStorageError(err)) throw err;
      // No errno: the failure came from the body stream, not the disk.
      if ((err as NodeJS.ErrnoException)?.code === undefined) throw bodyError(err, this.name, key);
      throw fsError(err, this.name, key);
    }
    return { key, size, checksum: { algorithm: 'crc32', value: native ? crc32Hex(crc) : checksum.digest() } };
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const path = await this.pathFor(key);
    try {
      const { size } = await stat(path);
      const [start, end] = resolveRange(options.range, size, this.name, key);
      if (end === start) return Readable.from([]);
      const stream = createReadStream(path, { start, end: end - 1, highWaterMark: 1 << 20, signal: options.signal });
      return verifyLength(stream, end - start, this.name, key, (err) => fsError(err, this.name, key));
    } catch (err) {
      throw fsError(err, this.name, key);
    }
  }

  async stat(key: string): Promise<ObjectInfo> {
    const path = await this.pathFor(key);
    try {
      const s = await stat(path);
      if (!s.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      return { key, size: s.size, modifiedAt: s.mtime };
    } catch (err) {
      throw fsError(err, this.name, key);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix, this.name);
    // Start from the deepest folder the prefix names, so listing one source does not walk all.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    yield* this.walk(join(this.root, folder), prefix);
  }

  private async *walk(dir: string, prefix: string): AsyncIterable<ObjectInfo> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw fsError(err, this.name, undefined);
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      const key = relative(this.root, path).split(sep).join('/');
      if (key === LOCAL_TEMP_DIR) continue;
      if (entry.isDirectory()) {
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) yield* this.walk(path, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        try {
          const s = await stat(path);
          yield { key, size: s.size, modifiedAt: s.mtime };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, this.name, key);
        }
      }
    }
  }

  async delete(key: string): Promise<void> {
    const path = await this.pathFor(key).catch((err) => {
      if (isStorageError(err, 'NOT_FOUND')) return null;
      throw err;
    });
    if (!path) return;
    try {
      await rm(path, { force: true });
    } catch (err) {
      throw fsError(err, this.name, key);
    }
  }

  /**
   * Removes leftovers of uploads interrupted by a crash: those of a writer on this machine whose
   * process is gone, and any other once `olderThanMs` old (24 h) — never an upload in progress.
   * Returns how many were removed.
   */
  async cleanupIncomplete(olderThanMs = 24 * 3600_000): Promise<number> {
    const dir = join(this.root, LOCAL_TEMP_DIR);
    const names = await readdir(dir).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      const info = await stat(join(dir, name)).catch(() => null);
      if (!info || !isAbandoned(name, info.mtime, olderThanMs)) continue;
      await rm(join(dir, name), { force: true });
      removed += 1;
    }
    return removed;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
