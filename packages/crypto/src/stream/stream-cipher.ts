import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Aead } from '../aead.js';
import { TAG_BYTES } from '../aead.js';
import { utf8 } from '../bytes.js';
import { corrupted } from '../errors.js';

/** age STREAM parameters (SPEC §3). */
export const CHUNK_BYTES = 64 * 1024;
export const SEALED_CHUNK_BYTES = CHUNK_BYTES + TAG_BYTES;
export const PAYLOAD_NONCE_BYTES = 16;

export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return hkdf(sha256, fileKey, nonce, utf8('payload'), 32);
}

/** 11-byte big-endian counter ‖ last flag. */
function chunkNonce(counter: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(12);
  let c = counter;
  for (let i = 10; i >= 0 && c > 0; i--) {
    nonce[i] = c % 256;
    c = Math.floor(c / 256);
  }
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** Seals successive chunks; the caller says which one is last. */
export class ChunkSealer {
  private counter = 0;
  private done = false;
  constructor(
    private readonly key: Uint8Array,
    private readonly aead: Aead,
  ) {}

  /** Seals one chunk into `out` at `offset`; returns the offset after it. */
  sealInto(out: Uint8Array, offset: number, plaintext: Uint8Array, last: boolean): number {
    if (this.done) throw new Error('STREAM: chunk after the last chunk');
    if (plaintext.length > CHUNK_BYTES) throw new Error('STREAM: chunk too large');
    // Only a lone final chunk may be empty: an empty final chunk after data is invalid in age.
    if (plaintext.length === 0 && !(last && this.counter === 0)) throw new Error('STREAM: empty chunk');
    if (!last && plaintext.length !== CHUNK_BYTES) throw new Error('STREAM: short non-final chunk');
    this.aead.sealInto(out, offset, this.key, chunkNonce(this.counter++, last), plaintext);
    this.done = last;
    return offset + plaintext.length + TAG_BYTES;
  }
}

/** Opens successive chunks; any failure is the generic CORRUPTED error. */
export class ChunkOpener {
  private counter = 0;
  constructor(
    private readonly key: Uint8Array,
    private readonly aead: Aead,
  ) {}

  open(sealed: Uint8Array, last: boolean): Uint8Array {
    if (sealed.length < TAG_BYTES || sealed.length > SEALED_CHUNK_BYTES) throw corrupted();
    if (!last && sealed.length !== SEALED_CHUNK_BYTES) throw corrupted();
    const plaintext = this.aead.open(this.key, chunkNonce(this.counter, last), sealed);
    if (!plaintext) throw corrupted();
    if (plaintext.length === 0 && this.counter > 0) throw corrupted();
    this.counter += 1;
    return plaintext;
  }
}
