// Encrypting and decrypting a stream with the published @coffer/crypto, across chunk boundaries.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { CHUNK_BYTES, createAgeDecryptStream, createDecryptStream, createEncryptStream, deriveKeyMaterial, generateBackupKey, toWriteOnly } from '@coffer/crypto';
import { expect, it } from 'vitest';

const keys = deriveKeyMaterial(generateBackupKey());
const metadata = { backupId: 'consumer-1', source: 'photos', createdAt: '2026-12-04T10:00:00.000Z', generation: 3 };

function pieces(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

it('round-trips a stream of several chunks written in odd sizes', async () => {
  const data = randomBytes(3 * CHUNK_BYTES + 12_345);
  const sealed = await buffer(Readable.from(pieces(data, 10_007)).pipe(createEncryptStream({ key: toWriteOnly(keys), metadata })));
  expect(sealed.length).toBeGreaterThan(data.length);
  const decrypt = createDecryptStream(keys);
  expect((await buffer(Readable.from(pieces(sealed, 65_521)).pipe(decrypt))).equals(data)).toBe(true);
  expect(decrypt.metadata).toMatchObject({ ...metadata, keyId: keys.keyId });
  // Every backup is an age file: the plain age reader opens it with the X25519 identity.
  expect((await buffer(Readable.from([sealed]).pipe(createAgeDecryptStream(keys.identity)))).equals(data)).toBe(true);
});

it('refuses a backup with one flipped bit, releasing nothing after it', async () => {
  const data = randomBytes(2 * CHUNK_BYTES);
  const sealed = await buffer(Readable.from([data]).pipe(createEncryptStream({ key: keys, metadata })));
  sealed[sealed.length - 100]! ^= 1;
  await expect(buffer(Readable.from([sealed]).pipe(createDecryptStream(keys)))).rejects.toMatchObject({ code: 'CORRUPTED' });
});

it('a backup made with another key fails to decrypt', async () => {
  const sealed = await buffer(Readable.from([Buffer.from('x')]).pipe(createEncryptStream({ key: keys, metadata })));
  const other = deriveKeyMaterial(generateBackupKey());
  await expect(buffer(Readable.from([sealed]).pipe(createDecryptStream(other)))).rejects.toHaveProperty('code');
});
