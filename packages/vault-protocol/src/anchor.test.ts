import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { anchorPublicKey, isAnchorKey, signAnchor, verifyAnchor } from './anchor.js';

const seed = new Uint8Array(32).fill(7);
const pub = anchorPublicKey(seed);
const anchor = signAnchor(seed, 'alice', { source: 'chats', backupId: 'b1', generation: 4, sha256: 'a'.repeat(64), keyId: 'aaaaaaaaaaaaaaaa' });

describe('signed freshness anchor', () => {
  it('verifies as signed and fails for any edited field, another account or another key', () => {
    expect(verifyAnchor(pub, 'alice', anchor)).toBe(true);
    for (const edit of [{ generation: 5 }, { generation: Number.MAX_SAFE_INTEGER }, { backupId: 'b2' }, { sha256: 'b'.repeat(64) }, { source: 'photos' }, { keyId: 'bbbbbbbbbbbbbbbb' }]) {
      expect(verifyAnchor(pub, 'alice', { ...anchor, ...edit })).toBe(false);
    }
    expect(verifyAnchor(pub, 'bob', anchor)).toBe(false);
    expect(verifyAnchor(anchorPublicKey(new Uint8Array(32).fill(8)), 'alice', anchor)).toBe(false);
  });

  it('every single-bit change of the signature fails; malformed input is false, never a throw', () => {
    const sig = Buffer.from(anchor.sig, 'hex');
    for (let i = 0; i < sig.length * 8; i++) {
      const bad = Buffer.from(sig);
      bad[i >> 3]! ^= 1 << (i & 7);
      expect(verifyAnchor(pub, 'alice', { ...anchor, sig: bad.toString('hex') })).toBe(false);
    }
    for (const sig of ['', 'zz'.repeat(64), '0'.repeat(128), 'f'.repeat(128)]) expect(verifyAnchor(pub, 'alice', { ...anchor, sig })).toBe(false);
    expect(verifyAnchor('', 'alice', anchor)).toBe(false);
    expect(verifyAnchor('not-a-key', 'alice', anchor)).toBe(false);
    expect(verifyAnchor(pub, 'alice', { ...anchor, sig: undefined } as never)).toBe(false);
    expect(verifyAnchor(pub, 'alice', null as never)).toBe(false);
  });

  it('a signature is RFC 8032 Ed25519 over the documented bytes (PROTOCOL.md)', () => {
    const msg = new TextEncoder().encode(['coffer/v1/anchor-signature', 'alice', 'chats', 'b1', '4', 'a'.repeat(64), 'aaaaaaaaaaaaaaaa'].join('\n'));
    expect(ed25519.verify(Buffer.from(anchor.sig, 'hex'), msg, Buffer.from(pub, 'base64url'))).toBe(true);
  });

  it('anchor keys: 32-byte points only, not small-order ones', () => {
    expect(isAnchorKey(pub)).toBe(true);
    expect(isAnchorKey(Buffer.alloc(32).toString('base64url'))).toBe(false); // y = 0: a point of order 4
    const identity = Buffer.alloc(32);
    identity[0] = 1; // the neutral element
    expect(isAnchorKey(identity.toString('base64url'))).toBe(false);
    expect(isAnchorKey(Buffer.alloc(31, 1).toString('base64url'))).toBe(false);
    expect(isAnchorKey(`${pub}=`)).toBe(false);
  });
});
