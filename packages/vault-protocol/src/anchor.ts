import { timingSafeEqual } from 'node:crypto';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Anchor } from './schemas.js';

export type UnsignedAnchor = Omit<Anchor, 'mac'>;

/** The freshness anchor's MAC binds the account too: another account's anchor never verifies. */
function anchorMac(anchorMacKey: Uint8Array, account: string, a: UnsignedAnchor): Buffer {
  const text = ['coffer/v1/anchor', account, a.source, a.backupId, String(a.generation), a.sha256, a.keyId].join('\n');
  return Buffer.from(hmac(sha256, anchorMacKey, new TextEncoder().encode(text)));
}

export function signAnchor(anchorMacKey: Uint8Array, account: string, a: UnsignedAnchor): Anchor {
  return { ...a, mac: anchorMac(anchorMacKey, account, a).toString('hex') };
}

/** Constant-time check: a vault that edits an anchor cannot produce a valid MAC. */
export function verifyAnchor(anchorMacKey: Uint8Array, account: string, a: Anchor): boolean {
  const given = Buffer.from(a.mac, 'hex');
  const want = anchorMac(anchorMacKey, account, a);
  return given.length === want.length && timingSafeEqual(given, want);
}
