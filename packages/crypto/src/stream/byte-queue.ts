/** A FIFO of byte chunks that hands out exact-size pieces, copying only when a piece spans chunks. */
export class ByteQueue {
  private chunks: Buffer[] = [];
  /** The chunks as pushed, in step with `chunks` (whose head may be a view of what is left). */
  private originals: Uint8Array[] = [];
  /** Pushed chunks whose every byte has been taken, oldest first; see `takeDropped`. */
  private dropped: Uint8Array[] = [];
  length = 0;

  /** `trackDropped`: remember fully taken chunks for `takeDropped` (which must then be called). */
  constructor(private readonly trackDropped = false) {}

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.originals.push(chunk);
    this.length += chunk.length;
  }

  /**
   * The pushed chunks fully taken since the last call. Pieces handed out may be views into them,
   * so they are only free once whoever holds those pieces is done with them.
   */
  takeDropped(): Uint8Array[] {
    const dropped = this.dropped;
    this.dropped = [];
    return dropped;
  }

  private shift(): void {
    this.chunks.shift();
    const original = this.originals.shift()!;
    if (this.trackDropped) this.dropped.push(original);
  }

  /** Removes exactly `n` bytes as views into the chunks that hold them, copying nothing. */
  takeViews(n: number): Buffer[] {
    const views: Buffer[] = [];
    while (n > 0) {
      const first = this.chunks[0]!;
      const k = Math.min(first.length, n);
      views.push(first.subarray(0, k));
      if (k === first.length) this.shift();
      else this.chunks[0] = first.subarray(k);
      this.length -= k;
      n -= k;
    }
    return views;
  }

  /** Removes and returns exactly `n` bytes; the caller checks `length` first. */
  take(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) {
      this.length -= n;
      if (first.length === n) this.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (k === c.length) this.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.length -= n;
    return out;
  }

  /** Looks at the first `n` bytes (or fewer) without removing them. */
  peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.chunks).subarray(0, n);
  }
}
