/**
 * Read buffers of one size, reused once the reader's consumer hands them back. A fresh 1 MiB
 * buffer per MiB read costs more than the read: V8 runs a full garbage collection for every 64 MiB
 * of buffers allocated, and the kernel zero-fills every new page.
 *
 * Only buffers this pool issued are taken back, each once; anything else handed to `release` is
 * ignored, so a consumer may pass every chunk it is done with.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  /** Each issued buffer by its memory, so that a view of it (a piece filled in part) finds it. */
  private readonly issued = new WeakMap<ArrayBufferLike, Buffer>();

  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    const buffer = this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
    this.issued.set(buffer.buffer, buffer);
    return buffer;
  }

  /**
   * Gives back the buffer `chunk` is, or is a view of. The caller MUST hold no reference to any
   * part of that buffer once it is released, and MUST NOT hand on two views of one buffer. Returns
   * whether the chunk was one of this pool's.
   */
  release(chunk: Uint8Array): boolean {
    const buffer = this.issued.get(chunk.buffer);
    if (!buffer) return false;
    this.issued.delete(chunk.buffer);
    if (this.free.length < this.keep) this.free.push(buffer);
    return true;
  }
}
