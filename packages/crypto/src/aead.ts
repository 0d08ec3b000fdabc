import { createCipheriv, createDecipheriv } from 'node:crypto';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';

/** ChaCha20-Poly1305 (RFC 8439). Two interchangeable implementations; tests prove they agree. */
export interface Aead {
  readonly name: 'node' | 'noble';
  /** Returns ciphertext ‖ 16-byte tag. */
  seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Returns the plaintext, or null if the tag does not verify. Never returns unauthenticated bytes. */
  open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Uint8Array | null;
}

export const TAG_BYTES = 16;

/** OpenSSL through node:crypto: the fast path for bulk data (≈ 2 GB/s here against ≈ 0.14 GB/s). */
export const nodeAead: Aead = {
  name: 'node',
  seal(key, nonce, plaintext) {
    const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
    const body = cipher.update(plaintext);
    cipher.final();
    return Buffer.concat([body, cipher.getAuthTag()]);
  },
  open(key, nonce, sealed) {
    if (sealed.length < TAG_BYTES) return null;
    const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
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
  seal: (key, nonce, plaintext) => chacha20poly1305(key, nonce).encrypt(plaintext),
  open(key, nonce, sealed) {
    try {
      return chacha20poly1305(key, nonce).decrypt(sealed);
    } catch {
      return null;
    }
  },
};
