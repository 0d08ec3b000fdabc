import { createReadStream } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import picomatch from 'picomatch';
import { pack as tarPack, type Header } from 'tar-stream';

type Headers = Partial<Header> & Pick<Header, 'name'>;

export interface ArchiveEntry {
  readonly rel: string;
  readonly type: 'file' | 'directory' | 'symlink';
  readonly size: number;
  readonly mode: number;
  readonly mtime: Date;
  /** Full-precision mtime, to notice a change during the read. */
  readonly mtimeMs: number;
}

export interface ArchiveReport {
  files: number;
  bytes: number;
  /** Files whose size or mtime changed while they were read: their copy may be inconsistent. */
  readonly changed: string[];
  /** Files that disappeared between the scan and their read; left out of the archive. */
  readonly vanished: string[];
  /** Sockets, devices, FIFOs: not archived. */
  readonly skipped: string[];
}

/** Walks `root` in a stable order, applying exclude globs to paths relative to it. */
export async function scanSource(root: string, exclude: readonly string[]): Promise<{ entries: ArchiveEntry[]; skipped: string[] }> {
  const isExcluded = picomatch(exclude as string[], { dot: true });
  const entries: ArchiveEntry[] = [];
  const skipped: string[] = [];
  async function walk(dir: string): Promise<void> {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const path = join(dir, name);
      const rel = relative(root, path).split(sep).join('/');
      if (isExcluded(rel) || isExcluded(`${rel}/`)) continue;
      let s;
      try {
        s = await lstat(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const base = { rel, mode: s.mode & 0o7777, mtime: s.mtime, mtimeMs: s.mtimeMs };
      if (s.isDirectory()) {
        entries.push({ ...base, type: 'directory', size: 0 });
        await walk(path);
      } else if (s.isFile()) entries.push({ ...base, type: 'file', size: s.size });
      else if (s.isSymbolicLink()) entries.push({ ...base, type: 'symlink', size: 0 });
      else skipped.push(rel);
    }
  }
  await walk(root);
  return { entries, skipped };
}

/** Reads exactly `size` bytes of a file, padding with zeros if it shrank, and reports changes. */
async function* readExactly(path: string, entry: ArchiveEntry, report: ArchiveReport): AsyncIterable<Buffer> {
  let sent = 0;
  const source = entry.size === 0 ? [] : (createReadStream(path, { start: 0, end: entry.size - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>);
  for await (const chunk of source) {
    const take = chunk.subarray(0, entry.size - sent);
    sent += take.length;
    yield take;
  }
  if (sent < entry.size) {
    report.changed.push(entry.rel);
    const zeros = Buffer.alloc(Math.min(1 << 20, entry.size - sent));
    while (sent < entry.size) {
      const n = Math.min(zeros.length, entry.size - sent);
      sent += n;
      yield zeros.subarray(0, n);
    }
    return;
  }
  const after = await lstat(path).catch(() => null);
  if (!after || after.size !== entry.size || after.mtimeMs !== entry.mtimeMs) report.changed.push(entry.rel);
}

/**
 * A streamed pax tar of `root`: relative paths, modes, mtimes, symlinks as links, empty
 * directories. Memory is bounded: one file is read at a time, in 1 MiB pieces.
 */
export function createArchive(root: string, entries: readonly ArchiveEntry[], report: ArchiveReport): Readable {
  const pack = tarPack();
  const out = new PassThrough({ highWaterMark: 4 << 20 });
  pack.on('error', (err) => out.destroy(err));
  pack.pipe(out);
  void (async () => {
    try {
      for (const entry of entries) {
        const path = join(root, entry.rel);
        const header: Headers = { name: entry.rel, mode: entry.mode, mtime: entry.mtime, type: entry.type };
        if (entry.type === 'directory') {
          await addEntry(pack, header);
        } else if (entry.type === 'symlink') {
          const linkname = await readlink(path).catch(() => null);
          if (linkname === null) {
            report.vanished.push(entry.rel);
            continue;
          }
          await addEntry(pack, { ...header, linkname });
        } else {
          // Open first: a file that vanished since the scan is reported and left out, not faked.
          const handle = await open(path, 'r').catch(() => null);
          if (!handle) {
            report.vanished.push(entry.rel);
            continue;
          }
          await handle.close();
          const sink = pack.entry({ ...header, size: entry.size });
          // Listen at once: when the archive is torn down (abort), the entry errors too.
          let sinkError: Error | undefined;
          sink.on('error', (err: Error) => (sinkError = err));
          for await (const chunk of readExactly(path, entry, report)) {
            if (sinkError || out.destroyed) throw sinkError ?? new Error('archive closed');
            if (!sink.write(chunk)) {
              await new Promise<void>((resolve) => {
                // Both listeners go once either fires: a 'close' left behind per wait would pile up.
                const done = () => {
                  sink.off('drain', done);
                  sink.off('close', done);
                  resolve();
                };
                sink.on('drain', done);
                sink.on('close', done);
              });
            }
          }
          await new Promise<void>((resolve, reject) => {
            if (sinkError) return reject(sinkError);
            sink.once('error', reject);
            sink.end(() => resolve());
          });
          report.files += 1;
          report.bytes += entry.size;
        }
      }
      pack.finalize();
    } catch (err) {
      out.destroy(err as Error);
    }
  })();
  return out;
}

function addEntry(pack: ReturnType<typeof tarPack>, header: Headers): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
}

export function newReport(skipped: string[] = []): ArchiveReport {
  return { files: 0, bytes: 0, changed: [], vanished: [], skipped };
}
