import type { BufferPool } from './buffer-pool.js';

interface Slab {
  readonly buffer: Buffer;
  /** Slices handed out and not yet freed. */
  live: number;
}

/**
 * Small files are read into slices of shared slabs (the pool's buffers) instead of a buffer each:
 * an archive of many small files would otherwise allocate, and leave the garbage collector to
 * find, its whole size in buffers of a few KiB. A slab goes back to the pool once no more slices
 * are cut from it and every slice was freed.
 *
 * Each slice MUST be freed once at most, and only when nothing refers to it any more.
 */
export class SlabAllocator {
  private current: Slab | undefined;
  private used = 0;
  /** Slab of each slice's memory; weak, so that slices never freed (an aborted archive) cost nothing. */
  private readonly owners = new WeakMap<ArrayBufferLike, Slab>();

  constructor(private readonly pool: BufferPool) {}

  /** A slice of `size` bytes (at most the pool's buffer size), contents undefined. */
  alloc(size: number): Buffer {
    if (size > this.pool.size) throw new RangeError(`slab slices hold at most ${this.pool.size} bytes`);
    if (!this.current || this.used + size > this.pool.size) {
      this.retire();
      const buffer = this.pool.take();
      this.current = { buffer, live: 0 };
      this.owners.set(buffer.buffer, this.current);
      this.used = 0;
    }
    const slab = this.current;
    slab.live += 1;
    const slice = slab.buffer.subarray(this.used, this.used + size);
    this.used += size;
    return slice;
  }

  /** Frees a slice; anything not cut here is ignored. */
  free(slice: Uint8Array): void {
    const slab = this.owners.get(slice.buffer);
    if (!slab || slab.live === 0) return;
    slab.live -= 1;
    if (slab.live === 0 && slab !== this.current) this.recycle(slab);
  }

  /** No more slices from the current slab; it goes back once its slices are freed. */
  private retire(): void {
    const slab = this.current;
    this.current = undefined;
    if (slab && slab.live === 0) this.recycle(slab);
  }

  private recycle(slab: Slab): void {
    this.owners.delete(slab.buffer.buffer);
    this.pool.release(slab.buffer);
  }
}
