import { timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { nodeAead } from './aead.js';
import { chunkId } from './chunk-keys.js';
import { DecryptStream, plainAgeOpener } from './decrypt.js';
import { buildAgeHeader, secureRandom } from './encrypt.js';
import { corrupted, invalidArgument } from './errors.js';
import { nativeAddon } from './native/addon.js';
import { padme } from './padme.js';
import { ByteQueue } from './stream/byte-queue.js';
import { CHUNK_BYTES, ChunkSealer } from './stream/stream-cipher.js';

const CHUNK_ID = /^[0-9a-f]{64}$/;

/**
 * SPEC §9: a chunk object, an age file to `recipient` with one X25519 stanza, whose payload is the
 * chunk and zeros up to its Padmé length. A chunk is at most a few MiB, so it is sealed whole.
 */
export async function sealChunk(recipient: Uint8Array, chunk: Uint8Array, random = secureRandom): Promise<Buffer> {
  const { header, payloadKey } = buildAgeHeader(recipient, random);
  const queue = new ByteQueue();
  queue.push(chunk);
  queue.push(Buffer.alloc(padme(chunk.length) - chunk.length));
  const sealer = new ChunkSealer(payloadKey, nodeAead, nativeAddon);
  const parts: Uint8Array[] = [header];
  const full = Math.max(0, Math.floor((queue.length - 1) / CHUNK_BYTES));
  if (full > 0) parts.push((await sealer.sealFull(queue, full)).sealed);
  parts.push(sealer.sealLast(queue.take(queue.length)));
  return Buffer.concat(parts);
}

/**
 * SPEC §9: decrypts a chunk object and returns its first `length` bytes, only after checking that
 * the payload is exactly the Padmé length, the padding is zeros, and the chunk's id is `id`
 * (constant time). Any failure is CORRUPTED: a chunk swapped, replaced or damaged.
 */
export async function openChunk(identity: Uint8Array, object: Uint8Array, length: number, id: string, chunkIdKey: Uint8Array): Promise<Buffer> {
  if (!CHUNK_ID.test(id)) throw invalidArgument('"chunk id" expected 64 lowercase hex digits');
  if (!Number.isSafeInteger(length) || length < 0) throw invalidArgument('"chunk length" expected a non-negative integer');
  const parts: Buffer[] = [];
  await pipeline(Readable.from([object]), new DecryptStream(plainAgeOpener([identity])), async (plain: AsyncIterable<Buffer>) => {
    for await (const part of plain) parts.push(part);
  });
  const payload = Buffer.concat(parts);
  if (payload.length !== padme(length)) throw corrupted();
  const padding = payload.subarray(length);
  if (!padding.equals(Buffer.alloc(padding.length))) throw corrupted();
  const chunk = payload.subarray(0, length);
  if (!timingSafeEqual(Buffer.from(chunkId(chunkIdKey, chunk), 'hex'), Buffer.from(id, 'hex'))) throw corrupted();
  return chunk;
}
