import { describe, expect, it } from 'vitest';
import { deriveKeyMaterial } from '@coffer/crypto';
import { encodeRefs, parseRefs, type RefsSubject } from './refs.js';

const keys = deriveKeyMaterial(new Uint8Array(32).fill(5)).chunkKeys;
const subject: RefsSubject = { keyId: '0123456789abcdef', sourceId: `s${'1'.repeat(32)}`, backupId: '20261204T120000Z-abcd', generation: 7 };
const id = (c: string) => c.repeat(64);

describe('reference lists (SPEC §11)', () => {
  it('list each chunk id once, in ascending order, and read back', () => {
    const bytes = encodeRefs(keys, subject, [id('b'), id('a'), id('b')], 12_345);
    expect(bytes.toString()).toMatch(/^coffer-refs 2\nkey-id 0123456789abcdef\nsource-id s1{32}\nbackup-id 20261204T120000Z-abcd\ngeneration 7\nuploaded 12345\nchunk a{64}\nchunk b{64}\nmac [0-9a-f]{64}\n$/);
    expect(parseRefs(keys, bytes, subject)).toEqual({ ids: [id('a'), id('b')], uploaded: 12_345 });
    expect(parseRefs(keys, encodeRefs(keys, subject, [], 0), subject)).toEqual({ ids: [], uploaded: 0 });
  });

  it('refuses a list that was edited, moved to another backup, or made with another key', () => {
    const bytes = encodeRefs(keys, subject, [id('a'), id('b')], 1);
    const dropped = Buffer.from(bytes.toString().replace(`chunk ${id('b')}\n`, ''));
    expect(() => parseRefs(keys, dropped, subject)).toThrow(/wrong MAC/);
    for (const other of [{ backupId: 'another' }, { generation: 8 }, { sourceId: `s${'2'.repeat(32)}` }, { keyId: 'fedcba9876543210' }]) {
      expect(() => parseRefs(keys, bytes, { ...subject, ...other })).toThrow(/line \d is not/);
    }
    const stranger = deriveKeyMaterial(new Uint8Array(32).fill(6)).chunkKeys;
    expect(() => parseRefs(stranger, bytes, subject)).toThrow(/wrong MAC/);
    expect(() => parseRefs(keys, bytes.subarray(0, 40), subject)).toThrow(/no MAC line/);
  });
});
