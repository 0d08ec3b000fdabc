import { lstat, readdir, realpath } from 'node:fs/promises';
import { lstatSync } from 'node:fs';
import { batchIoAddon, statFiles, type BatchIoAddon } from '@coffer/batch-io';
import { sep } from 'node:path';
import picomatch from 'picomatch';
import { keepHeapTight, MANY_ENTRIES, TIGHT_HEAP_ENTRIES } from '../heap.js';
import { AdaptiveIo } from './adaptive-io.js';

/**
 * One scanned path.
 */
export class ArchiveEntry {
  constructor(
    /** Where it is, as the scan reached it: the source folder's path, then `rel`. */
    readonly path: string,
    readonly rel: string,
    readonly type: 'file' | 'directory' | 'symlink',
    readonly size: number,
    readonly mode: number,
    /** Full-precision mtime, to notice a change during the read. */
    readonly mtimeMs: number,
  ) {}
}

/** Where a scan puts what it finds, in order. */
export interface ScanSink {
  /** An entry to archive. The scan waits for a returned promise before it goes on (backpressure). */
  entry(entry: ArchiveEntry): void | Promise<void>;
  /** A socket, device or FIFO: not archived. */
  skipped(rel: string): void;
  /** A folder that disappeared between its parent's listing and its own: nothing under it is archived. */
  vanished(rel: string): void;
  /** A folder that cannot be listed (`code`, e.g. EACCES): nothing under it is archived. */
  unreadable(rel: string, code: string): void;
}

/** Without the batched lstat, how many lstat calls run at once: the scan of a folder of small files is latency-bound. */
const STAT_CONCURRENCY = 32;
/** Entries of a folder statted per thread-pool job, where the batched lstat is built, and jobs under way. */
const STAT_BATCH = 256;
const STATS_AHEAD = 4;

/** What the scan needs of an lstat; null for an entry gone since its folder was listed. */
type EntryStat = { readonly mode: number; readonly size: number; readonly mtimeMs: number } | null;

/** Gone since its folder was listed: the entry, or the folder (no longer one). */
const GONE = new Set(['ENOENT', 'ENOTDIR']);
/** An entry is also gone when a folder on its way became a symlink: reads refuse those (ELOOP). */
const ENTRY_GONE = new Set([...GONE, 'ELOOP']);

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * Walks `root` in a stable order (depth first, names sorted), applying exclude globs to paths
 * relative to it, and hands each entry to `sink` as it goes: nothing is kept but the folders on
 * the way down, so memory does not grow with the tree. Entries are statted in batches on the
 * thread pool where `batchIo` is built, else one at a time through `io`. Rejects with the errno
 * error when `root` cannot be listed.
 */
export async function scanSource(
  root: string,
  exclude: readonly string[],
  sink: ScanSink,
  io = new AdaptiveIo(),
  batchIo: BatchIoAddon | null = batchIoAddon,
): Promise<void> {
  const isExcluded = picomatch(exclude as string[], { dot: true });
  let count = 0;
  const gone = (err: unknown): null => {
    if (ENTRY_GONE.has((err as NodeJS.ErrnoException).code ?? '')) return null;
    throw err;
  };
  const statOne = async (path: string): Promise<EntryStat> => {
    try {
      return await io.run(() => lstatSync(path), () => lstat(path));
    } catch (err) {
      return gone(err);
    }
  };
  /** lstat of entries of `dir` in one thread-pool job. */
  const statBatch = async (addon: BatchIoAddon, dir: string, batch: ReadonlyArray<{ name: string; path: string }>): Promise<EntryStat[]> => {
    const results = await statFiles(addon, dir, batch.map(({ name }) => name));
    return results.map((r, i) => {
      if (r.ok) return r;
      const { path } = batch[i]!;
      return gone(Object.assign(new Error(`${r.code}: lstat '${path}'`), { code: r.code, syscall: 'lstat', path }));
    });
  };
  let tight = false;
  // Paths built by concatenation (readdir's names never hold a separator): path.join and
  // path.relative per entry cost a 20,000-file scan ~40 ms of this thread.
  async function walk(dir: string, relDir: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      // The source itself must be readable. A folder inside it that is not is left out and
      // reported, as an unreadable or vanished file is: one such folder must not cost the backup.
      if (relDir === '') throw err;
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      if (GONE.has(code)) sink.vanished(relDir);
      else sink.unreadable(relDir, code);
      return;
    }
    const parent = dir === sep ? '' : dir; // a source of "/" has children "/etc", not "//etc"
    const children = names
      .sort()
      .map((name) => ({ name, path: `${parent}${sep}${name}`, rel: relDir === '' ? name : `${relDir}/${name}` }))
      .filter(({ rel }) => !isExcluded(rel) && !isExcluded(`${rel}/`));
    const size = batchIo ? STAT_BATCH : STAT_CONCURRENCY;
    const batches: Array<typeof children> = [];
    for (let start = 0; start < children.length; start += size) batches.push(children.slice(start, start + size));
    // Batched, a few jobs run ahead, so the pool works while this thread goes on (all at once, a
    // folder of 200,000 entries would hold every result at once); one at a time, a batch starts
    // when it is reached.
    const ahead = new Map<number, Promise<EntryStat[]>>();
    const startBatch = (b: number) => {
      if (!batchIo || b >= batches.length || ahead.has(b)) return;
      const stats = statBatch(batchIo, dir, batches[b]!);
      stats.catch(() => {}); // awaited in order below
      ahead.set(b, stats);
    };
    let at = 0;
    for (const [b, batch] of batches.entries()) {
      // As soon as the tree turns out large, before the scan's own garbage has grown the heap.
      if (!tight && count >= TIGHT_HEAP_ENTRIES) {
        keepHeapTight();
        tight = true;
      }
      if (count >= MANY_ENTRIES) io.preferPool();
      for (let next = b; next < b + STATS_AHEAD; next++) startBatch(next);
      const stats = await (ahead.get(b) ?? Promise.all(batch.map(({ path }) => statOne(path))));
      ahead.delete(b);
      for (const s of stats) {
        const { path, rel } = children[at++]!;
        if (!s) continue;
        const mode = s.mode & 0o7777;
        const type = s.mode & S_IFMT;
        const kind = type === S_IFDIR ? 'directory' : type === S_IFREG ? 'file' : type === S_IFLNK ? 'symlink' : undefined;
        if (!kind) {
          sink.skipped(rel);
          continue;
        }
        count += 1;
        const held = sink.entry(new ArchiveEntry(path, rel, kind, kind === 'file' ? s.size : 0, mode, s.mtimeMs));
        if (held) await held; // only then: an await per entry would cost a microtask each
        if (kind === 'directory') await walk(path, rel);
      }
    }
  }
  // Entries' paths hold no symlink (those inside the source are archived as links, never
  // followed): reads refuse any symlink on the way, so a folder swapped for one lets nothing in.
  await walk(await realpath(root), '');
}

/**
 * The bytes in the files under `root` now, by a walk of its own: the total a progress bar shows.
 * Rejects once `signal` aborts, so that a walk of a large tree never outlasts its backup.
 */
export async function countBytes(root: string, exclude: readonly string[], signal: AbortSignal, batchIo: BatchIoAddon | null = batchIoAddon): Promise<number> {
  let bytes = 0;
  const ignore = () => {};
  const entry = (found: ArchiveEntry) => {
    signal.throwIfAborted();
    bytes += found.size;
  };
  const sink: ScanSink = { entry, skipped: ignore, vanished: ignore, unreadable: ignore };
  await scanSource(root, exclude, sink, new AdaptiveIo(), batchIo);
  return bytes;
}
