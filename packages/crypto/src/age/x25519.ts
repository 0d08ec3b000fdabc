import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { abytes } from '../bytes.js';
import { invalidArgument } from '../errors.js';

// RFC 7748 X25519 through node:crypto (OpenSSL). @noble/curves is the reference the tests hold it
// to; at run time this avoids loading and initialising noble's curve code (~20 ms per command).
// DER prefixes for raw 32-byte X25519 keys (RFC 8410): PKCS #8 private and SPKI public.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

function privateKey(secret: Uint8Array): KeyObject {
  abytes('X25519 secret', secret, 32);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secret]), format: 'der', type: 'pkcs8' });
}

/** The public key for a 32-byte secret (clamped as RFC 7748 says). */
export function x25519PublicKey(secret: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKey(secret)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
}

/**
 * The shared secret of `secret` and `publicKey`. Throws when it is all zeros (a low-order public
 * key), as the age spec requires: OpenSSL refuses to derive it.
 */
export function x25519SharedSecret(secret: Uint8Array, publicKey: Uint8Array): Uint8Array {
  abytes('X25519 public key', publicKey, 32);
  const own = privateKey(secret);
  const peer = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  try {
    return new Uint8Array(diffieHellman({ privateKey: own, publicKey: peer }));
  } catch {
    throw invalidArgument('X25519: the shared secret is all zeros (a low-order public key)');
  }
}
