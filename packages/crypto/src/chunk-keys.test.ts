import { hkdfSync } from 'node:crypto';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { chunkId, gearTable, refsMac, sourceId } from './chunk-keys.js';

// Each is held to an independent implementation: node:crypto's HKDF, @noble/hashes' HMAC.
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
    expect(chunkId(key, chunk)).toBe(Buffer.from(hmac(sha256, key, chunk)).toString('hex'));
    expect(chunkId(key, chunk)).not.toBe(chunkId(new Uint8Array(32), chunk));
  });

  it('a source id is s and 32 hex digits of HMAC-SHA-256 of the name; a reference list MAC is the whole HMAC', () => {
    const noble = (text: Uint8Array) => Buffer.from(hmac(sha256, key, text)).toString('hex');
    expect(sourceId(key, 'chats')).toBe(`s${noble(Buffer.from('chats')).slice(0, 32)}`);
    expect(sourceId(key, 'chats')).not.toBe(sourceId(key, 'photos'));
    expect(refsMac(key, Buffer.from('coffer-refs 2\n'))).toBe(noble(Buffer.from('coffer-refs 2\n')));
  });

  it('refuses keys of the wrong length, naming them', () => {
    expect(() => gearTable(new Uint8Array(31))).toThrow(/gear key/);
    expect(() => chunkId(new Uint8Array(16), new Uint8Array(1))).toThrow(/chunk-id key/);
  });
});
