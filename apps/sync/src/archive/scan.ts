import { lstat, readdir } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join, relative, sep } from 'node:path';
import picomatch from 'picomatch';

export interface ArchiveEntry {
  readonly rel: string;
  readonly type: 'file' | 'directory' | 'symlink';
  readonly size: number;
  readonly mode: number;
  readonly mtime: Date;
  /** Full-precision mtime, to notice a change during the read. */
  readonly mtimeMs: number;
}

/** How many lstat calls run at once: the scan of a folder of small files is latency-bound. */
const STAT_CONCURRENCY = 32;

/** Walks `root` in a stable order, applying exclude globs to paths relative to it. */
export async function scanSource(root: string, exclude: readonly string[]): Promise<{ entries: ArchiveEntry[]; skipped: string[] }> {
  const isExcluded = picomatch(exclude as string[], { dot: true });
  const entries: ArchiveEntry[] = [];
  const skipped: string[] = [];
  async function statOrNull(path: string): Promise<Stats | null> {
    try {
      return await lstat(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }
  async function walk(dir: string): Promise<void> {
    const children = (await readdir(dir))
      .sort()
      .map((name) => ({ path: join(dir, name), rel: relative(root, join(dir, name)).split(sep).join('/') }))
      .filter(({ rel }) => !isExcluded(rel) && !isExcluded(`${rel}/`));
    for (let start = 0; start < children.length; start += STAT_CONCURRENCY) {
      const batch = children.slice(start, start + STAT_CONCURRENCY);
      const stats = await Promise.all(batch.map(({ path }) => statOrNull(path)));
      for (const [i, s] of stats.entries()) {
        if (!s) continue;
        const { path, rel } = batch[i]!;
        const base = { rel, mode: s.mode & 0o7777, mtime: s.mtime, mtimeMs: s.mtimeMs };
        if (s.isDirectory()) {
          entries.push({ ...base, type: 'directory', size: 0 });
          await walk(path);
        } else if (s.isFile()) entries.push({ ...base, type: 'file', size: s.size });
        else if (s.isSymbolicLink()) entries.push({ ...base, type: 'symlink', size: 0 });
        else skipped.push(rel);
      }
    }
  }
  await walk(root);
  return { entries, skipped };
}
