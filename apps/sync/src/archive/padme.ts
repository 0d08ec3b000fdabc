/**
 * Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication with
 * PURBs", PETS 2019): rounds a length up so that it leaks O(log log L) bits, with at most ~12%
 * overhead. Padding is zero bytes after the tar end-of-archive marker, which tar readers ignore.
 */
export function padme(length: number): number {
  if (length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const lastBits = e - s;
  const mask = 2 ** lastBits - 1;
  // Arithmetic instead of bitwise ops: lengths above 2^31 must work.
  return Math.ceil(length / (mask + 1)) * (mask + 1);
}

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
