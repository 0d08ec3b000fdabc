import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8 } from './bytes.js';

/** age header MAC: HMAC-SHA-256 under HKDF(file key, "", "header") over the header through `---`. */
export function headerMac(fileKey: Uint8Array, macInput: Uint8Array): Uint8Array {
  const key = hkdf(sha256, fileKey, new Uint8Array(0), utf8('header'), 32);
  return hmac(sha256, key, macInput);
}
