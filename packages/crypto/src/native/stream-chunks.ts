import { createRequire } from 'node:module';

/**
 * Seals or opens whole, non-final STREAM chunks (SPEC §5) on libuv's thread pool, straight into
 * `output`: OpenSSL's ChaCha20-Poly1305, the same code node:crypto runs, minus the per-chunk cipher
 * object, the copy out of `update()` and the main thread. Resolves false if any chunk fails to
 * open, and then `output` holds only zeros. Neither buffer may be touched until it settles.
 */
export interface StreamChunks {
  sealChunks(key: Uint8Array, counter: number, input: Uint8Array, output: Uint8Array): Promise<boolean>;
  openChunks(key: Uint8Array, counter: number, input: Uint8Array, output: Uint8Array): Promise<boolean>;
}

function load(): StreamChunks | null {
  // An escape hatch for users (and for tests of the fallback): COFFER_NATIVE=0.
  if (process.env.COFFER_NATIVE === '0') return null;
  try {
    // src/native and dist/native are both two levels below the package root.
    return createRequire(import.meta.url)('../../build/Release/coffer_native.node') as StreamChunks;
  } catch {
    return null;
  }
}

/** The addon, or null where it was not built: callers then seal chunk by chunk with node:crypto. */
export const streamChunks: StreamChunks | null = load();
