import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { createAgeDecryptStream, decodeIdentity, encodeIdentity, encodeRecipient, nobleAead, nodeAead, seal } from '../src/index.js';
import { x25519PublicKey, x25519SharedSecret } from '../src/age/x25519.js';
import { decrypt, hex, toHex } from './helpers.js';
import { RFC5869_CASE1, RFC7748_DH, RFC7748_SCALARMULT, RFC8439_AEAD } from './vectors/rfc.js';

const vector = (name: string) => readFileSync(new URL(`./vectors/age-1.1.1/${name}`, import.meta.url));

describe('RFC 8439 ChaCha20-Poly1305', () => {
  for (const aead of [nodeAead, nobleAead]) {
    it(`${aead.name} seals and opens the §2.8.2 vector`, () => {
      const v = RFC8439_AEAD;
      const sealed = seal(aead, hex(v.key), hex(v.nonce), Buffer.from(v.plaintext), hex(v.aad));
      expect(toHex(sealed)).toBe(v.ciphertext + v.tag);
      expect(Buffer.from(aead.open(hex(v.key), hex(v.nonce), sealed, hex(v.aad))!).toString()).toBe(v.plaintext);
      sealed[7]! ^= 1;
      expect(aead.open(hex(v.key), hex(v.nonce), sealed, hex(v.aad))).toBeNull();
    });
  }
});

describe('RFC 5869 HKDF-SHA-256', () => {
  it('test case 1', () => {
    const v = RFC5869_CASE1;
    expect(toHex(hkdf(sha256, hex(v.ikm), hex(v.salt), hex(v.info), v.length))).toBe(v.okm);
  });
});

describe('RFC 7748 X25519', () => {
  for (const [i, v] of RFC7748_SCALARMULT.entries()) {
    it(`§5.2 vector ${i + 1}, noble and node:crypto`, () => {
      expect(toHex(x25519.getSharedSecret(hex(v.scalar), hex(v.u)))).toBe(v.out);
      expect(toHex(x25519SharedSecret(hex(v.scalar), hex(v.u)))).toBe(v.out);
    });
  }
  it('§6.1 Diffie-Hellman', () => {
    const v = RFC7748_DH;
    expect(toHex(x25519.getPublicKey(hex(v.alicePrivate)))).toBe(v.alicePublic);
    expect(toHex(x25519.getPublicKey(hex(v.bobPrivate)))).toBe(v.bobPublic);
    expect(toHex(x25519.getSharedSecret(hex(v.alicePrivate), hex(v.bobPublic)))).toBe(v.shared);
    expect(toHex(x25519PublicKey(hex(v.alicePrivate)))).toBe(v.alicePublic);
    expect(toHex(x25519PublicKey(hex(v.bobPrivate)))).toBe(v.bobPublic);
    expect(toHex(x25519SharedSecret(hex(v.bobPrivate), hex(v.alicePublic)))).toBe(v.shared);
  });
  it('node:crypto (what runs) equals noble (the reference) on random keys, unclamped and high-bit inputs included', () => {
    for (let i = 0; i < 64; i++) {
      const [secret, other] = [randomBytes(32), randomBytes(32)];
      const peer = x25519.getPublicKey(other);
      if (i % 2) peer[31]! |= 0x80; // RFC 7748 §5: the top bit of u is ignored
      expect(toHex(x25519PublicKey(secret))).toBe(toHex(x25519.getPublicKey(secret)));
      expect(toHex(x25519SharedSecret(secret, peer))).toBe(toHex(x25519.getSharedSecret(secret, peer)));
    }
  });
  it('refuses an all-zero shared secret (low-order points), as age requires, with a clear error', () => {
    const lowOrder = [new Uint8Array(32), Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0))];
    for (const point of lowOrder) {
      expect(() => x25519SharedSecret(randomBytes(32), point)).toThrow(/all zeros/);
      expect(() => x25519.getSharedSecret(randomBytes(32), point)).toThrow();
    }
    expect(() => x25519SharedSecret(randomBytes(31), new Uint8Array(32).fill(9))).toThrow(/expected 32 bytes/);
  });
});

describe('age 1.1.1 vectors', () => {
  const identity = decodeIdentity(vector('identity.txt').toString());

  it('our bech32 encodings match age-keygen', () => {
    expect(toHex(identity)).toBe(RFC7748_DH.alicePrivate);
    expect(encodeIdentity(identity)).toBe(vector('identity.txt').toString().trim());
    expect(encodeRecipient(hex(RFC7748_DH.alicePublic))).toBe(vector('recipient.txt').toString().trim());
  });

  for (const name of ['hello.txt', 'empty.txt', 'two-chunks.bin']) {
    it(`decrypts ${name}.age made by age 1.1.1`, async () => {
      const { released, error } = await decrypt(vector(`${name}.age`), { stream: createAgeDecryptStream(identity), writeSize: 777 });
      expect(error).toBeNull();
      expect(released.equals(vector(name))).toBe(true);
    });
  }

  it('rejects the age vector under another identity, with the generic error', async () => {
    const other = new Uint8Array(32).fill(9);
    const { released, error } = await decrypt(vector('hello.txt.age'), { stream: createAgeDecryptStream(other) });
    expect(error?.code).toBe('CORRUPTED');
    expect(released.length).toBe(0);
  });
});
