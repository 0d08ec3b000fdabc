import { ed25519 } from '@noble/curves/ed25519.js';
import type { Anchor } from './schemas.js';

export type UnsignedAnchor = Omit<Anchor, 'sig'>;

const enc = new TextEncoder();

/** The signed bytes bind the account too: another account's anchor never verifies (PROTOCOL.md). */
function anchorMessage(account: string, a: UnsignedAnchor): Uint8Array {
  return enc.encode(['coffer/v1/anchor-signature', account, a.source, a.backupId, String(a.generation), a.sha256, a.keyId].join('\n'));
}

/** The anchor key: the public half of the anchor-signing seed (crypto SPEC §2), in base64url. */
export function anchorPublicKey(signingSeed: Uint8Array): string {
  return Buffer.from(ed25519.getPublicKey(signingSeed)).toString('base64url');
}

/** True when `key` (base64url) decodes as an Ed25519 public key. */
export function isAnchorKey(key: string): boolean {
  const bytes = Buffer.from(key, 'base64url');
  if (bytes.length !== 32 || bytes.toString('base64url') !== key) return false;
  try {
    // Why not small-order: such a key lets one signature verify for many messages.
    return ed25519.utils.isValidPublicKey(bytes, false) && !ed25519.Point.fromBytes(bytes, false).isSmallOrder();
  } catch {
    return false;
  }
}

export function signAnchor(signingSeed: Uint8Array, account: string, a: UnsignedAnchor): Anchor {
  const { source, backupId, generation, sha256, keyId } = a;
  const sig = Buffer.from(ed25519.sign(anchorMessage(account, a), signingSeed)).toString('hex');
  return { source, backupId, generation, sha256, keyId, sig };
}

/**
 * Checks an anchor against an anchor key (base64url). Strict RFC 8032 verification (no ZIP-215
 * leniency): one key, one accepted encoding of each signature. Never throws.
 */
export function verifyAnchor(publicKey: string, account: string, a: Anchor): boolean {
  try {
    if (typeof a?.sig !== 'string' || !/^[0-9a-f]{128}$/.test(a.sig) || !isAnchorKey(publicKey)) return false;
    return ed25519.verify(Buffer.from(a.sig, 'hex'), anchorMessage(account, a), Buffer.from(publicKey, 'base64url'), { zip215: false });
  } catch {
    return false;
  }
}
