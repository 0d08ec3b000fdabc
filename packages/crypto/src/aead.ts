import { createCipheriv, createDecipheriv } from 'node:crypto';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';

/** ChaCha20-Poly1305 (RFC 8439). Two interchangeable implementations; tests prove they agree. */
export interface Aead {
  readonly name: 'node' | 'noble';
  /** Writes ciphertext ‖ 16-byte tag into `out` at `offset` (plaintext.length + 16 bytes). */
  sealInto(out: Uint8Array, offset: number, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): void;
  /** Returns the plaintext, or null if the tag does not verify. Never returns unauthenticated bytes. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array | null;
}

export const TAG_BYTES = 16;

/** OpenSSL through node:crypto: the fast path for bulk data (≈ 2 GB/s here against ≈ 0.14 GB/s). */
export const nodeAead: Aead = {
  name: 'node',
  sealInto(out, offset, key, nonce, plaintext, aad) {
    const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
    if (aad) cipher.setAAD(aad, { plaintextLength: plaintext.length });
    out.set(cipher.update(plaintext), offset);
    cipher.final();
    out.set(cipher.getAuthTag(), offset + plaintext.length);
  },
  open(key, nonce, sealed, aad) {
    if (sealed.length < TAG_BYTES) return null;
    const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
    if (aad) decipher.setAAD(aad, { plaintextLength: sealed.length - TAG_BYTES });
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    // update() returns bytes before the tag is checked; they are dropped unless final() succeeds.
    const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    try {
      decipher.final();
    } catch {
      return null;
    }
    return plaintext;
  },
};

/** The audited pure-JS reference implementation. */
export const nobleAead: Aead = {
  name: 'noble',
  sealInto(out, offset, key, nonce, plaintext, aad) {
    out.set(chacha20poly1305(key, nonce, aad).encrypt(plaintext), offset);
  },
  open(key, nonce, sealed, aad) {
    try {
      return chacha20poly1305(key, nonce, aad).decrypt(sealed);
    } catch {
      return null;
    }
  },
};

/** Returns ciphertext ‖ tag in a new array. */
export function seal(aead: Aead, key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
  const out = new Uint8Array(plaintext.length + TAG_BYTES);
  aead.sealInto(out, 0, key, nonce, plaintext, aad);
  return out;
}
