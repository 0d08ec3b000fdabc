import { lstat, readdir } from 'node:fs/promises';
import { lstatSync, type Stats } from 'node:fs';
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

/** How many lstat calls run at once: the scan of a folder of small files is latency-bound. */
const STAT_CONCURRENCY = 32;
/** Walks `root` in a stable order, applying exclude globs to paths relative to it; `io` says how lstat runs. */
export async function scanSource(root: string, exclude: readonly string[], io = new AdaptiveIo()): Promise<{ entries: ScannedTree; skipped: string[] }> {
  const isExcluded = picomatch(exclude as string[], { dot: true });
  const entries = new ScannedTree();
  const skipped: string[] = [];
  async function statOrNull(path: string): Promise<Stats | null> {
    try {
      return await lstat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }
  let tight = false;
  // Paths built by concatenation (readdir's names never hold a separator): path.join and
  // path.relative per entry cost a 20,000-file scan ~40 ms of this thread.
  async function walk(dir: string, relDir: string): Promise<void> {
    const children = (await readdir(dir))
      .sort()
      .map((name) => ({ path: `${dir}${sep}${name}`, rel: relDir === '' ? name : `${relDir}/${name}` }))
      .filter(({ rel }) => !isExcluded(rel) && !isExcluded(`${rel}/`));
    for (let start = 0; start < children.length; start += STAT_CONCURRENCY) {
      // As soon as the tree turns out large, before the scan's own garbage has grown the heap.
      if (!tight && entries.length >= TIGHT_HEAP_ENTRIES) {
        keepHeapTight();
        tight = true;
      }
      const batch = children.slice(start, start + STAT_CONCURRENCY);
      const stats = await Promise.all(
        batch.map(({ path }) => io.run(() => lstatSync(path, { throwIfNoEntry: false }) ?? null, () => statOrNull(path))),
      );
      for (const [i, s] of stats.entries()) {
        if (!s) continue;
        const { path, rel } = batch[i]!;
        const mode = s.mode & 0o7777;
        if (s.isDirectory()) {
          entries.push(rel, 'directory', 0, mode, s.mtimeMs);
          await walk(path, rel);
        } else if (s.isFile()) entries.push(rel, 'file', s.size, mode, s.mtimeMs);
        else if (s.isSymbolicLink()) entries.push(rel, 'symlink', 0, mode, s.mtimeMs);
        else skipped.push(rel);
      }
    }
  }
  await walk(root, '');
  return { entries, skipped };
}
