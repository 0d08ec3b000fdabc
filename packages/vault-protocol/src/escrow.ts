import { randomBytes } from 'node:crypto';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';

const enc = new TextEncoder();

/**
 * The escrow key comes from OPAQUE's export key, which only a client that knows the password can
 * compute; the vault never sees it. The account and key id are bound in as associated data, so
 * an escrow moved to another account, or altered, does not decrypt.
 */
function escrowKey(exportKey: Uint8Array, account: string): Uint8Array {
  return hkdf(sha256, exportKey, new Uint8Array(0), enc.encode(`coffer/v1/vault-escrow/${account}`), 32);
}
const aad = (account: string, keyId: string) => enc.encode(`coffer/v1/escrow\n${account}\n${keyId}`);

export function sealEscrow(exportKey: Uint8Array, account: string, keyId: string, backupKey: Uint8Array): string {
  const nonce = new Uint8Array(randomBytes(12));
  const sealed = chacha20poly1305(escrowKey(exportKey, account), nonce, aad(account, keyId)).encrypt(backupKey);
  return Buffer.concat([nonce, sealed]).toString('base64url');
}

/** Returns the backup key, or null when the escrow does not authenticate. */
export function openEscrow(exportKey: Uint8Array, account: string, keyId: string, escrow: string): Uint8Array | null {
  const bytes = new Uint8Array(Buffer.from(escrow, 'base64url'));
  if (bytes.length !== 12 + 32 + 16) return null;
  try {
    return chacha20poly1305(escrowKey(exportKey, account), bytes.subarray(0, 12), aad(account, keyId)).decrypt(bytes.subarray(12));
  } catch {
    return null;
  }
}
