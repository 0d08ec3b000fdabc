import { padme } from '@coffer/crypto';

/** Padding after the tar end-of-archive marker is zeros, which tar readers ignore. */
const ZEROS = Buffer.alloc(1 << 20);

/** Passes bytes through, then appends zeros up to the Padmé length. Respects backpressure. */
export async function* padStream(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  let length = 0;
  for await (const chunk of source) {
    length += chunk.length;
    yield chunk;
  }
  let remaining = padme(length) - length;
  while (remaining > 0) {
    const n = Math.min(remaining, ZEROS.length);
    yield ZEROS.subarray(0, n);
    remaining -= n;
  }
}
