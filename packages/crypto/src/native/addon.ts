import { createRequire } from 'node:module';

/**
 * native/coffer_native.c: OpenSSL, the same code node:crypto runs, on libuv's thread pool.
 *
 * `sealChunks`/`openChunks` seal or open whole, non-final STREAM chunks (SPEC §3) straight into
 * `output`, minus the per-chunk cipher object, the copy out of `update()` and the main thread. The
 * input is `inputs` laid end to end, read where it lies; a chunk split across two is gathered.
 * They resolve false if any chunk fails to open, and `output` then holds only zeros. No buffer may
 * be touched until the call settles.
 */
export interface NativeAddon {
  sealChunks(key: Uint8Array, counter: number, inputs: readonly Uint8Array[], output: Uint8Array): Promise<boolean>;
  /** With `crc32`, resolves to the CRC-32 of `output` (computed while it is in cache), or false. */
  sealChunks(key: Uint8Array, counter: number, inputs: readonly Uint8Array[], output: Uint8Array, crc32: true): Promise<number | false>;
  openChunks(key: Uint8Array, counter: number, inputs: readonly Uint8Array[], output: Uint8Array): Promise<boolean>;
  /** zlib's crc32_combine: the CRC-32 of two pieces end to end, from theirs and the second's length. */
  crc32Combine(crc1: number, crc2: number, length2: number): number;
  /** Which CRC-32 code `sealChunks` runs: libdeflate's (SIMD) where it was built with it, else zlib's. */
  readonly crc32Implementation: 'libdeflate' | 'zlib';
}

function load(): NativeAddon | null {
  // An escape hatch for users (and for tests of the fallback): COFFER_NATIVE=0.
  if (process.env.COFFER_NATIVE === '0') return null;
  try {
    // By package name, not relative path: that resolves the same from src/, dist/ and a bundle.
    return createRequire(import.meta.url)('@coffer/crypto/native-addon') as NativeAddon;
  } catch {
    return null;
  }
}

/** The addon, or null where it was not built: callers then seal chunk by chunk with node:crypto. */
export const nativeAddon: NativeAddon | null = load();

/** How this process seals, for `coffer --debug`: the app's tests check the shipped CLI uses the batcher. */
export function describeSealing(): string {
  return nativeAddon
    ? `the native batcher, CRC-32 by ${nativeAddon.crc32Implementation}`
    : 'node:crypto on the main thread (the native batcher is not built, or COFFER_NATIVE=0)';
}
