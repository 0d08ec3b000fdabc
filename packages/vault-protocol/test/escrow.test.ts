import { describe, expect, it } from 'vitest';
import { openEscrow, sealEscrow } from '../src/index.js';

const exportKey = new Uint8Array(64).fill(1);
const key = new Uint8Array(32).fill(2);

describe('escrow', () => {
  it('round-trips only for the same export key, account and key id', () => {
    const sealed = sealEscrow(exportKey, 'alice', 'aaaaaaaaaaaaaaaa', key);
    expect(Buffer.from(openEscrow(exportKey, 'alice', 'aaaaaaaaaaaaaaaa', sealed)!).equals(Buffer.from(key))).toBe(true);
    expect(openEscrow(new Uint8Array(64).fill(9), 'alice', 'aaaaaaaaaaaaaaaa', sealed)).toBeNull(); // another password
    expect(openEscrow(exportKey, 'mallory', 'aaaaaaaaaaaaaaaa', sealed)).toBeNull(); // moved to another account
    expect(openEscrow(exportKey, 'alice', 'bbbbbbbbbbbbbbbb', sealed)).toBeNull(); // relabelled key id
  });

  it('rejects every single-bit change and every truncation', () => {
    const sealed = Buffer.from(sealEscrow(exportKey, 'alice', 'aaaaaaaaaaaaaaaa', key), 'base64url');
    for (let i = 0; i < sealed.length * 8; i++) {
      const bad = Buffer.from(sealed);
      bad[i >> 3]! ^= 1 << (i & 7);
      expect(openEscrow(exportKey, 'alice', 'aaaaaaaaaaaaaaaa', bad.toString('base64url'))).toBeNull();
    }
    for (let n = 0; n < sealed.length; n++) expect(openEscrow(exportKey, 'alice', 'aaaaaaaaaaaaaaaa', sealed.subarray(0, n).toString('base64url'))).toBeNull();
  });
});
