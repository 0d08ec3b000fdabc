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
  private readonly issued = new WeakSet<Uint8Array>();

  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    const buffer = this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
    this.issued.add(buffer);
    return buffer;
  }

  /**
   * The caller MUST hold no reference to `chunk`, not even a view, once it is released. Returns
   * whether the chunk was one of this pool's.
   */
  release(chunk: Uint8Array): boolean {
    if (!this.issued.delete(chunk)) return false;
    if (this.free.length < this.keep) this.free.push(chunk as Buffer);
    return true;
  }
}
