import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { nobleAead, seal } from '../aead.js';
import { b64decode, b64encode, concatBytes, utf8 } from '../bytes.js';
import { corrupted } from '../errors.js';
import type { Stanza } from './header.js';
import { x25519PublicKey, x25519SharedSecret } from './x25519.js';

// age spec, "The X25519 recipient type".
const LABEL = utf8('age-encryption.org/v1/X25519');
const ZERO_NONCE = new Uint8Array(12);

function wrapKey(shared: Uint8Array, share: Uint8Array, recipient: Uint8Array): Uint8Array {
  return hkdf(sha256, shared, concatBytes(share, recipient), LABEL, 32);
}

export function wrapFileKey(recipient: Uint8Array, fileKey: Uint8Array, ephemeral: Uint8Array): Stanza {
  const share = x25519PublicKey(ephemeral);
  const shared = x25519SharedSecret(ephemeral, recipient);
  const body = seal(nobleAead, wrapKey(shared, share, recipient), ZERO_NONCE, fileKey);
  return { args: ['X25519', b64encode(share)], body };
}

/**
 * Returns the file key, or null when the stanza is for another identity. A malformed X25519 stanza
 * (argument count, share length or encoding, body length, a low-order share) throws CORRUPTED:
 * the age spec says it MUST fail the file, even when another stanza would match.
 */
export function unwrapFileKey(identity: Uint8Array, stanza: Stanza): Uint8Array | null {
  if (stanza.args.length !== 2 || stanza.args[0] !== 'X25519' || stanza.body.length !== 32) throw corrupted();
  const share = b64decode(stanza.args[1]!);
  if (!share || share.length !== 32) throw corrupted();
  let shared: Uint8Array;
  try {
    // An all-zero shared secret (a low-order share) throws, as the age spec requires.
    shared = x25519SharedSecret(identity, share);
  } catch {
    throw corrupted();
  }
  const recipient = x25519PublicKey(identity);
  return nobleAead.open(wrapKey(shared, share, recipient), ZERO_NONCE, stanza.body);
}
