import { lstat, readdir } from 'node:fs/promises';
import { lstatSync } from 'node:fs';
import { batchIoAddon, statFiles, type BatchIoAddon } from '@coffer/batch-io';
import { sep } from 'node:path';
import picomatch from 'picomatch';
import { keepHeapTight, TIGHT_HEAP_ENTRIES } from '../heap.js';
import { AdaptiveIo } from './adaptive-io.js';

/**
 * One scanned path.
 */
export class ArchiveEntry {
  constructor(
    readonly rel: string,
    readonly type: 'file' | 'directory' | 'symlink',
    readonly size: number,
    readonly mode: number,
    /** Full-precision mtime, to notice a change during the read. */
    readonly mtimeMs: number,
  ) {}

  get mtime(): Date {
    return new Date(this.mtimeMs);
  }
}

const TYPES = ['file', 'directory', 'symlink'] as const;

/**
 * The scanned tree, in columns: a path string and 19 bytes of numbers per entry, where an object
 * per entry held for the whole run cost three times as much and, through the garbage collector's
 * heap growth, more again (200,000 files: 44 MB live). Entries are made on demand by `at`.
 */
export class ScannedTree {
  private readonly rels: string[] = [];
  private sizes = new Float64Array(1024);
  private mtimes = new Float64Array(1024);
  private modes = new Uint16Array(1024);
  private types = new Uint8Array(1024);
  length = 0;
  totalBytes = 0;

  push(rel: string, type: ArchiveEntry['type'], size: number, mode: number, mtimeMs: number): void {
    if (this.length === this.sizes.length) this.grow();
    const i = this.length++;
    this.rels.push(rel);
    this.sizes[i] = size;
    this.mtimes[i] = mtimeMs;
    this.modes[i] = mode;
    this.types[i] = TYPES.indexOf(type);
    this.totalBytes += size;
  }

  at(i: number): ArchiveEntry | undefined {
    if (i < 0 || i >= this.length) return undefined;
    return new ArchiveEntry(this.rels[i]!, TYPES[this.types[i]!]!, this.sizes[i]!, this.modes[i]!, this.mtimes[i]!);
  }

  private grow(): void {
    const n = this.sizes.length * 2;
    const sizes = new Float64Array(n);
    sizes.set(this.sizes);
    const mtimes = new Float64Array(n);
    mtimes.set(this.mtimes);
    const modes = new Uint16Array(n);
    modes.set(this.modes);
    const types = new Uint8Array(n);
    types.set(this.types);
    [this.sizes, this.mtimes, this.modes, this.types] = [sizes, mtimes, modes, types];
  }
}

/** Without the batched lstat, how many lstat calls run at once: the scan of a folder of small files is latency-bound. */
const STAT_CONCURRENCY = 32;
/** Entries of a folder statted per thread-pool job, where the batched lstat is built, and jobs under way. */
const STAT_BATCH = 256;
const STATS_AHEAD = 4;

/** What the scan needs of an lstat; null for an entry gone since its folder was listed. */
type EntryStat = { readonly mode: number; readonly size: number; readonly mtimeMs: number } | null;

/** Gone since the listing: the entry, or its folder (no longer one). */
const GONE = new Set(['ENOENT', 'ENOTDIR']);

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * Walks `root` in a stable order, applying exclude globs to paths relative to it. Entries are
 * statted in batches on the thread pool where `batchIo` is built, else one at a time through `io`.
 */
export async function scanSource(
  root: string,
  exclude: readonly string[],
  io = new AdaptiveIo(),
  batchIo: BatchIoAddon | null = batchIoAddon,
): Promise<{ entries: ScannedTree; skipped: string[] }> {
  const isExcluded = picomatch(exclude as string[], { dot: true });
  const entries = new ScannedTree();
  const skipped: string[] = [];
  const gone = (err: unknown): null => {
    if (GONE.has((err as NodeJS.ErrnoException).code ?? '')) return null;
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
    const children = (await readdir(dir))
      .sort()
      .map((name) => ({ name, path: `${dir}${sep}${name}`, rel: relDir === '' ? name : `${relDir}/${name}` }))
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
      if (!tight && entries.length >= TIGHT_HEAP_ENTRIES) {
        keepHeapTight();
        tight = true;
      }
      for (let next = b; next < b + STATS_AHEAD; next++) startBatch(next);
      const stats = await (ahead.get(b) ?? Promise.all(batch.map(({ path }) => statOne(path))));
      ahead.delete(b);
      for (const s of stats) {
        const { path, rel } = children[at++]!;
        if (!s) continue;
        const mode = s.mode & 0o7777;
        const type = s.mode & S_IFMT;
        if (type === S_IFDIR) {
          entries.push(rel, 'directory', 0, mode, s.mtimeMs);
          await walk(path, rel);
        } else if (type === S_IFREG) entries.push(rel, 'file', s.size, mode, s.mtimeMs);
        else if (type === S_IFLNK) entries.push(rel, 'symlink', 0, mode, s.mtimeMs);
        else skipped.push(rel);
      }
    }
  }
  await walk(root, '');
  return { entries, skipped };
}
