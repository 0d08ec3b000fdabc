import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeIdentity } from './age/identity-encoding.js';
import { openChunk, sealChunk } from './chunk.js';
import { chunkId } from './chunk-keys.js';
import { deriveKeyMaterial } from './key-hierarchy.js';
import { padme } from './padme.js';

const key = deriveKeyMaterial(new Uint8Array(32).fill(3));
const idKey = key.chunkKeys.chunkId;
const bytes = (n: number, seed = 1) => Buffer.from(Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff));

describe('chunk objects (SPEC §9)', () => {
  it('round-trip at every boundary of the age STREAM, padded to the Padmé length', async () => {
    for (const n of [0, 1, 65_535, 65_536, 65_537, 1 << 20, (4 << 20) + 17]) {
      const chunk = bytes(n);
      const object = await sealChunk(key.recipient, chunk);
      const sealedChunks = Math.max(1, Math.ceil(padme(n) / 65_536));
      // header + nonce, then the padded payload and one 16-byte tag per 64 KiB.
      expect(object.length - padme(n) - 16 * sealedChunks).toBeLessThan(250);
      const opened = await openChunk(key.identity, object, n, chunkId(idKey, chunk), idKey);
      expect(opened.equals(chunk)).toBe(true);
    }
  });

  it('is an age file that stock age decrypts: the chunk, then zeros', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-chunk-'));
    writeFileSync(join(dir, 'identity.txt'), `${encodeIdentity(key.identity)}\n`, { mode: 0o600 });
    const chunk = bytes(100_000);
    writeFileSync(join(dir, 'chunk.age'), await sealChunk(key.recipient, chunk));
    const plain = execFileSync('age', ['-d', '-i', join(dir, 'identity.txt'), join(dir, 'chunk.age')], { maxBuffer: 1 << 24 });
    expect(plain.length).toBe(padme(chunk.length));
    expect(plain.subarray(0, chunk.length).equals(chunk)).toBe(true);
    expect(plain.subarray(chunk.length).every((b) => b === 0)).toBe(true);
  });

  it('refuses a chunk swapped for another, its older content, a wrong length, or a wrong key', async () => {
    const chunk = bytes(70_000, 1);
    const id = chunkId(idKey, chunk);
    const other = await sealChunk(key.recipient, bytes(70_000, 2));
    const older = await sealChunk(key.recipient, Buffer.concat([chunk.subarray(0, 69_999), Buffer.from([0])]));
    const right = await sealChunk(key.recipient, chunk);
    for (const [object, length] of [[other, 70_000], [older, 70_000], [right, 69_999], [right, 70_001]] as const) {
      await expect(openChunk(key.identity, object, length, id, idKey)).rejects.toMatchObject({ code: 'CORRUPTED' });
    }
    const stranger = deriveKeyMaterial(new Uint8Array(32).fill(4));
    await expect(openChunk(stranger.identity, right, 70_000, id, idKey)).rejects.toMatchObject({ code: 'CORRUPTED' });
    await expect(openChunk(key.identity, right, 70_000, id, stranger.chunkKeys.chunkId)).rejects.toMatchObject({ code: 'CORRUPTED' });
    expect((await openChunk(key.identity, right, 70_000, id, idKey)).equals(chunk)).toBe(true);
  });

  it('refuses padding that is not zeros', async () => {
    const chunk = bytes(70_000);
    const padded = Buffer.concat([chunk, Buffer.alloc(padme(chunk.length) - chunk.length, 1)]);
    expect(padme(padded.length)).toBe(padded.length);
    const object = await sealChunk(key.recipient, padded);
    await expect(openChunk(key.identity, object, chunk.length, chunkId(idKey, chunk), idKey)).rejects.toMatchObject({ code: 'CORRUPTED' });
  });

  it('refuses a malformed id or length as bad arguments', async () => {
    const object = await sealChunk(key.recipient, bytes(10));
    await expect(openChunk(key.identity, object, 10, 'ABC', idKey)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(openChunk(key.identity, object, -1, chunkId(idKey, bytes(10)), idKey)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
