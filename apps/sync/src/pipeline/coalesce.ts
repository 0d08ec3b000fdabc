/** Chunks at least this large pass through untouched. */
const LARGE_BYTES = 256 << 10;
/** Small chunks are joined into pieces of about this size. */
const PIECE_BYTES = 1 << 20;

/**
 * Joins runs of small chunks (tar headers, small files) into pieces of about 1 MiB and passes
 * large chunks through without a copy. Every later stage costs something per chunk, and an archive
 * of many small files would otherwise reach them in tens of thousands of pieces.
 */
export async function* coalesce(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = () => {
    const piece = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return piece;
  };
  for await (const chunk of source) {
    if (chunk.length >= LARGE_BYTES) {
      if (pendingBytes > 0) yield flush();
      yield chunk;
      continue;
    }
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= PIECE_BYTES) yield flush();
  }
  if (pendingBytes > 0) yield flush();
}
