import { getSystemErrorMap } from 'node:util';
import type { BatchIoAddon } from './addon.js';

export interface WriteRequest {
  readonly path: string;
  readonly data: Uint8Array;
  /** Permission bits (0-0o7777), filtered by the umask as open(2) does. */
  readonly mode: number;
  /** Set as both mtime and atime, to the microsecond, as fs.futimes sets it. */
  readonly mtime: Date;
}

const STEPS = ['open', 'write', 'futimens', 'close'] as const;

/**
 * Creates each file in order, in one thread-pool job: open with O_CREAT | O_EXCL | O_NOFOLLOW
 * (never into something that exists, least of all through a link), write, set its times, close.
 * The first failure ends the batch and rejects with an error shaped like Node's own (code,
 * errno, syscall, path); the files before it are written, the ones after it not attempted.
 */
export async function writeFiles(addon: BatchIoAddon, files: readonly WriteRequest[]): Promise<void> {
  const meta = new Float64Array(files.length * 2);
  files.forEach((f, i) => {
    meta[i * 2] = f.mode;
    meta[i * 2 + 1] = f.mtime.getTime() / 1000;
  });
  const results = new Float64Array(3);
  await addon.writeFiles(files.map((f) => f.path).join('\0'), files.map((f) => f.data), meta, results);
  if (results[0] === -1) return;
  const path = files[results[0]!]!.path;
  const errno = results[1]!;
  const syscall = STEPS[results[2]!]!;
  const [code, description] = getSystemErrorMap().get(errno) ?? ['EIO', 'i/o error'];
  throw Object.assign(new Error(`${code}: ${description}, ${syscall} '${path}'`), { code, errno, syscall, path });
}
