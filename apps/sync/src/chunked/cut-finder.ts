/**
 * FastCDC cut points over a keyed gear hash (SPEC §9): normalized chunking, with a stricter mask
 * before the average size and a looser one after it, so sizes cluster near the average.
 */
export interface ChunkerParams {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
}

export const DEFAULT_CHUNKER: ChunkerParams = { min: 256 * 1024, avg: 1024 * 1024, max: 4 * 1024 * 1024 };

/** The top `bits` bits of a 32-bit word: with `h << 1` per byte, high bits see the most bytes. */
const topBits = (bits: number) => (0xffffffff << (32 - bits)) | 0;

/** `h` depends on the last 32 bytes only (one bit shifts out per byte), so hashing starts there. */
const WINDOW = 32;

export function checkChunkerParams(p: ChunkerParams): void {
  const pow2 = (n: number) => Number.isInteger(Math.log2(n));
  if (!pow2(p.avg) || p.avg < 1024 || p.avg > 2 ** 28) throw new RangeError(`chunker avg must be a power of two from 1 KiB to 256 MiB, got ${p.avg}`);
  if (!(Number.isInteger(p.min) && p.min >= WINDOW && p.min <= p.avg)) throw new RangeError(`chunker min must be an integer from ${WINDOW} to avg, got ${p.min}`);
  if (!(Number.isInteger(p.max) && p.max >= p.avg)) throw new RangeError(`chunker max must be an integer of at least avg, got ${p.max}`);
}

/**
 * Finds cut points in a stream fed piece by piece; the result does not depend on how the stream
 * is split into pieces.
 */
export class CutFinder {
  private readonly maskSmall: number;
  private readonly maskLarge: number;
  /** Bytes of the current chunk seen so far. */
  private size = 0;
  private hash = 0;

  constructor(
    private readonly gear: Uint32Array,
    private readonly params: ChunkerParams = DEFAULT_CHUNKER,
  ) {
    checkChunkerParams(params);
    if (gear.length !== 256) throw new RangeError(`gear table must have 256 words, got ${gear.length}`);
    const bits = Math.log2(params.avg);
    this.maskSmall = topBits(bits + 2);
    this.maskLarge = topBits(bits - 2);
  }

  /**
   * Scans `data` from `start`. Returns the index just past the next cut (the current chunk ends
   * there and the next one starts fresh), or -1 when `data` ends first (the chunk goes on).
   */
  next(data: Uint8Array, start = 0): number {
    const { min, avg, max } = this.params;
    const { gear, maskSmall, maskLarge } = this;
    const n = data.length;
    // The chunk's size before data[i] is base + i. Four loops instead of per-byte branches on the
    // size: bytes that cannot influence a cut are skipped unread, the next ones only hashed, then
    // the strict mask applies up to the average size and the loose one up to the maximum.
    const base = this.size - start;
    let hash = this.hash;
    let i = Math.min(n, Math.max(start, min - WINDOW - base));
    for (const end = Math.min(n, Math.max(i, min - 1 - base)); i < end; i++) hash = ((hash << 1) + gear[data[i]!]!) | 0;
    for (const end = Math.min(n, Math.max(i, avg - 1 - base)); i < end; i++) {
      hash = ((hash << 1) + gear[data[i]!]!) | 0;
      if ((hash & maskSmall) === 0) return this.cut(i);
    }
    const last = max - 1 - base;
    for (const end = Math.min(n, Math.max(i, last + 1)); i < end; i++) {
      hash = ((hash << 1) + gear[data[i]!]!) | 0;
      if ((hash & maskLarge) === 0 || i === last) return this.cut(i);
    }
    this.size = base + n;
    this.hash = hash;
    return -1;
  }

  private cut(i: number): number {
    this.reset();
    return i + 1;
  }

  /** A forced cut (SPEC §9): the next byte starts a new chunk. */
  reset(): void {
    this.size = 0;
    this.hash = 0;
  }

  /** Bytes of the chunk under way. */
  get pending(): number {
    return this.size;
  }
}
