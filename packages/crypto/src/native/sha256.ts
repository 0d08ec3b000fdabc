import { createHash } from 'node:crypto';
import { nativeAddon, type NativeHash } from './addon.js';

/**
 * SHA-256 over a stream, computed on libuv's thread pool (OpenSSL, through the native addon) so that
 * hashing a backup does not take the JavaScript thread; node:crypto where the addon is not built.
 * Await each update before the next, and leave its bytes unchanged until then.
 */
export class BackgroundSha256 {
  private readonly native: NativeHash | null;
  private readonly fallback = nativeAddon ? null : createHash('sha256');

  constructor() {
    this.native = nativeAddon?.sha256New() ?? null;
  }

  async update(data: Uint8Array): Promise<void> {
    if (data.length === 0) return;
    if (!this.native) {
      this.fallback!.update(data);
      return;
    }
    if (!(await nativeAddon!.sha256Update(this.native, data))) throw new Error('SHA-256 failed');
  }

  /** The digest as lowercase hex; the hash is finished after this. */
  digest(): string {
    return this.native ? nativeAddon!.sha256Digest(this.native).toString('hex') : this.fallback!.digest('hex');
  }
}
