import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chunkId, gearTable } from './chunk-keys.js';

// node:crypto (OpenSSL) is the independent implementation these are held to.
describe('chunk keys (SPEC §2, §9)', () => {
  const key = new Uint8Array(32).map((_, i) => i);

  it('the gear table is HKDF-SHA-256(gear key, "", "coffer/v2/gear-table", 1024) as little-endian words', () => {
    const bytes = Buffer.from(hkdfSync('sha256', key, new Uint8Array(0), 'coffer/v2/gear-table', 1024));
    const table = gearTable(key);
    expect(table.length).toBe(256);
    for (const i of [0, 1, 127, 255]) expect(table[i]).toBe(bytes.readUInt32LE(i * 4));
  });

  it('a chunk id is the hex HMAC-SHA-256 of the chunk under the chunk-id key', () => {
    const chunk = Buffer.from('some chunk of a tar stream');
    expect(chunkId(key, chunk)).toBe(createHmac('sha256', key).update(chunk).digest('hex'));
    expect(chunkId(key, chunk)).not.toBe(chunkId(new Uint8Array(32), chunk));
  });

  it('refuses keys of the wrong length, naming them', () => {
    expect(() => gearTable(new Uint8Array(31))).toThrow(/gear key/);
    expect(() => chunkId(new Uint8Array(16), new Uint8Array(1))).toThrow(/chunk-id key/);
  });
});
