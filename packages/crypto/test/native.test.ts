import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { nativeAddon } from '../src/native/addon.js';
import { pseudoRandom } from './helpers.js';

const K = 64 * 1024;
const SEALED = K + 16;
const key = new Uint8Array(pseudoRandom(32, 5));

/** age STREAM nonce for a non-final chunk, built independently of the code under test. */
function nonce(counter: bigint): Uint8Array {
  const n = new Uint8Array(12);
  for (let i = 10; i >= 0; i--) {
    n[i] = Number(counter & 0xffn);
    counter >>= 8n;
  }
  return n;
}

describe('native STREAM batcher (OpenSSL on the thread pool)', () => {
  it('is built: CI must measure and test the fast path, not silently fall back', () => {
    expect(nativeAddon, 'build/Release/coffer_native.node is missing: run pnpm build').not.toBeNull();
  });
  const native = nativeAddon!;

  it('computes CRC-32s with libdeflate (scripts/bootstrap.sh installs it; zlib is the slower fallback)', () => {
    expect(native.crc32Implementation, 'libdeflate-dev was missing when the addon was built: run scripts/bootstrap.sh, then pnpm build').toBe('libdeflate');
  });

  it('seals exactly what noble seals, at small and large counters', async () => {
    for (const counter of [0, 1, 255, 2 ** 40 + 7, 2 ** 53 - 4]) {
      const input = pseudoRandom(3 * K, counter % 1000);
      const output = Buffer.alloc(3 * SEALED);
      expect(await native.sealChunks(key, counter, [input], output)).toBe(true);
      for (let i = 0; i < 3; i++) {
        const expected = chacha20poly1305(key, nonce(BigInt(counter) + BigInt(i))).encrypt(input.subarray(i * K, (i + 1) * K));
        expect(Buffer.from(expected).equals(output.subarray(i * SEALED, (i + 1) * SEALED))).toBe(true);
      }
    }
  });

  it('opens what it sealed', async () => {
    const input = pseudoRandom(4 * K, 1);
    const sealed = Buffer.alloc(4 * SEALED);
    await native.sealChunks(key, 9, [input], sealed);
    const opened = Buffer.alloc(4 * K);
    expect(await native.openChunks(key, 9, [sealed], opened)).toBe(true);
    expect(opened.equals(input)).toBe(true);
  });

  /** `data` cut at `cuts` into views, as a queue of reads hands them over. */
  const cut = (data: Buffer, cuts: number[]) => [0, ...cuts].map((from, i) => data.subarray(from, [...cuts, data.length][i]));

  it('reads input split anywhere, chunks straddling two or more pieces included, exactly as if whole', async () => {
    const input = pseudoRandom(5 * K, 3);
    const whole = Buffer.alloc(5 * SEALED);
    await native.sealChunks(key, 4, [input], whole);
    const splits = [[1], [K - 1], [K], [K + 1], [100, 200, 300], [K / 2, K / 2 + 1, 3 * K + 7], [0, 0, 2 * K, 2 * K, 5 * K]];
    for (const cuts of splits) {
      const sealed = Buffer.alloc(5 * SEALED);
      expect(await native.sealChunks(key, 4, cut(input, cuts), sealed)).toBe(true);
      expect(sealed.equals(whole), `seal, cut at ${cuts}`).toBe(true);
      const opened = Buffer.alloc(5 * K);
      expect(await native.openChunks(key, 4, cut(whole, cuts.map((c) => Math.min(c + 16 * Math.floor(c / K), 5 * SEALED))), opened)).toBe(true);
      expect(opened.equals(input), `open, cut near ${cuts}`).toBe(true);
    }
  });

  it('refuses a flipped bit, a wrong counter or a wrong key, and releases only zeros', async () => {
    const input = pseudoRandom(4 * K, 2);
    const sealed = Buffer.alloc(4 * SEALED);
    await native.sealChunks(key, 0, [input], sealed);
    const flipped = Buffer.from(sealed);
    flipped[3 * SEALED + 100]! ^= 0x10;
    const otherKey = new Uint8Array(key);
    otherKey[0]! ^= 1;
    for (const [k, counter, bytes] of [[key, 0, flipped], [key, 1, sealed], [otherKey, 0, sealed]] as const) {
      const opened = Buffer.alloc(4 * K, 0xee);
      expect(await native.openChunks(k, counter, cut(bytes, [SEALED + 5]), opened)).toBe(false);
      expect(opened.equals(Buffer.alloc(4 * K))).toBe(true);
    }
  });

  it('with crc32, also returns the CRC-32 of what it sealed; crc32Combine joins two CRC-32s as zlib does', async () => {
    const input = pseudoRandom(5 * K, 8);
    const sealed = Buffer.alloc(5 * SEALED);
    const crc = await native.sealChunks(key, 2, cut(input, [K + 3]), sealed, true);
    expect(crc).toBe(crc32(sealed)); // zlib's, whichever implementation the addon uses
    const plain = Buffer.alloc(5 * SEALED);
    expect(await native.sealChunks(key, 2, [input], plain)).toBe(true);
    expect(plain.equals(sealed)).toBe(true);
    for (const at of [0, 1, 100, SEALED, 5 * SEALED]) {
      const [a, b] = [sealed.subarray(0, at), sealed.subarray(at)];
      expect(native.crc32Combine(crc32(a), crc32(b), b.length)).toBe(crc32(sealed));
    }
    for (const args of [[1, 2], [-1, 2, 3], [2 ** 32, 2, 3], [1, 2, -1], [1, 2, 0.5], [1, 'x', 3]]) {
      expect(() => (native.crc32Combine as (...a: unknown[]) => unknown)(...args)).toThrow(/expected/);
    }
  });

  it('validates every argument before touching memory', () => {
    const inp = [Buffer.alloc(K)];
    const out = Buffer.alloc(SEALED);
    const bad: unknown[][] = [
      [key.subarray(1), 0, inp, out],
      [key, -1, inp, out],
      [key, 0.5, inp, out],
      [key, Number.NaN, inp, out],
      [key, 2 ** 53, inp, out],
      [key, 0, [Buffer.alloc(K - 1)], out],
      [key, 0, [Buffer.alloc(K / 2), Buffer.alloc(K / 2 + 1)], out],
      [key, 0, [Buffer.alloc(0)], Buffer.alloc(0)],
      [key, 0, [], Buffer.alloc(0)],
      [key, 0, inp, Buffer.alloc(SEALED - 1)],
      [key, 0, inp, 'not bytes'],
      [key, 0, Buffer.alloc(K), out],
      [key, 0, [Buffer.alloc(K / 2), 'not bytes'], out],
      [key, 0, [new Uint16Array(K / 2)], out],
      [key, 0, inp],
    ];
    for (const args of bad) expect(() => (native.sealChunks as (...a: unknown[]) => unknown)(...args)).toThrow(/expected|bad key/);
    expect(() => native.openChunks(key, 0, [Buffer.alloc(SEALED + 1)], Buffer.alloc(K))).toThrow(/bad key/);
    expect(() => (native.openChunks as (...a: unknown[]) => unknown)(key, 0, [Buffer.alloc(SEALED)], Buffer.alloc(K), true)).toThrow(/expected/);
    expect(() => (native.sealChunks as (...a: unknown[]) => unknown)(key, 0, inp, out, 'yes')).toThrow(/expected/);
  });
});
