import type { BufferPool } from '../archive/buffer-pool.js';

/** Chunks at least this large pass through untouched. */
const LARGE_BYTES = 256 << 10;

/**
 * Joins runs of small chunks (short runs of packed entries, the headers and padding of large files,
 * symlinks) into pieces of `pool.size` bytes, copied into the pool's buffers, and passes large
 * chunks through without a copy. Every later stage costs something per chunk. What is left over before a large chunk or at the end goes out as is.
 * `onCopied` is told of each chunk whose every byte was copied (the last part of a chunk cut in
 * two stands for all of it); a chunk passed on as it is is not.
 */
export async function* coalesce(source: AsyncIterable<Uint8Array>, pool: BufferPool, onCopied?: (chunk: Uint8Array) => void): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const rest = () => {
    const piece = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    if (pending.length > 1) for (const chunk of pending) onCopied?.(chunk);
    pending = [];
    pendingBytes = 0;
    return piece;
  };
  /** Fills one pooled piece from the front of `pending`; a chunk cut in two leaves its tail there. */
  const full = () => {
    const piece = pool.take();
    let filled = 0;
    while (filled < piece.length) {
      const chunk = pending[0]!;
      const n = Math.min(chunk.length, piece.length - filled);
      piece.set(n === chunk.length ? chunk : chunk.subarray(0, n), filled);
      filled += n;
      if (n === chunk.length) {
        pending.shift();
        onCopied?.(chunk);
      } else pending[0] = chunk.subarray(n);
    }
    pendingBytes -= piece.length;
    return piece;
  };
  for await (const chunk of source) {
    if (chunk.length >= LARGE_BYTES) {
      if (pendingBytes > 0) yield rest();
      yield chunk;
      continue;
    }
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= pool.size) yield full();
  }
  if (pendingBytes > 0) yield rest();
}
