import { createRequire } from 'node:module';

/**
 * native/batch_io.c: a batch of small-file reads or writes, or of lstat calls, as one job on
 * libuv's thread pool; and a write with its CRC-32.
 * Paths are NUL-separated in one string; no buffer may be touched until the call settles.
 */
export interface BatchIoAddon {
  /** Per file, 4 numbers in `results`: bytes read (or -errno, or NOT_A_FILE), size, mtime s, mtime ns. */
  readFiles(paths: string, buffers: readonly Uint8Array[], results: Float64Array): Promise<void>;
  /** `meta`: mode and mtime (s) per file; `results`: failed index (-1: none), -errno, step. */
  writeFiles(paths: string, buffers: readonly Uint8Array[], meta: Float64Array, results: Float64Array): Promise<void>;
  /** Per name in `dir`, 4 numbers in `results`: st_mode (or -errno), size, mtime s, mtime ns. */
  statFiles(dir: string, names: string, count: number, results: Float64Array): Promise<void>;
  /**
   * Whether readFiles and statFiles refuse a symlink anywhere in a path (openat2 RESOLVE_NO_SYMLINKS,
   * Linux 5.6+), not only as its last component (O_NOFOLLOW): their paths must then be symlink-free.
   */
  readonly noSymlinksInPaths: boolean;
  /** Writes all of `data` at `position`; resolves to the CRC-32 so far, or rejects with -errno. */
  writeAt(fd: number, data: Uint8Array, position: number, crc: number): Promise<number>;
}

function load(): BatchIoAddon | null {
  // The same escape hatch as the crypto addon's: COFFER_NATIVE=0 runs the JavaScript paths.
  if (process.env.COFFER_NATIVE === '0') return null;
  try {
    // By package name: that resolves the same from src/, dist/ and a bundle.
    return createRequire(import.meta.url)('@coffer/batch-io/native-addon') as BatchIoAddon;
  } catch {
    return null;
  }
}

/** The addon, or null where it was not built (callers then do one file at a time). */
export const batchIoAddon: BatchIoAddon | null = load();
