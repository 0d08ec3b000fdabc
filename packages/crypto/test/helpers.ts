import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import {
  createDecryptStream,
  createEncryptStream,
  deriveKeyMaterial,
  type Aead,
  type DecryptStream,
  type KeyMaterial,
  type WriteOnlyKey,
} from '../src/index.js';

export const hex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Deterministic bytes: SHA-256 of a seed and counter, so failures reproduce. */
export function pseudoRandom(length: number, seed = 0): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0, off = 0; off < length; i++) {
    const block = createHash('sha256').update(`${seed}:${i}`).digest();
    block.copy(out, off);
    off += block.length;
  }
  return out;
}

/** A randomness source that replays a fixed stream: makes encryption deterministic for tests. */
export function fixedRandom(seed: number): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => new Uint8Array(pseudoRandom(n, seed * 1000 + counter++));
}

export const testKey = (seed = 1): KeyMaterial => deriveKeyMaterial(new Uint8Array(pseudoRandom(32, 10_000 + seed)));

export const metadata = (generation = 1, source = 'chats') => ({
  backupId: `b-${generation}`,
  source,
  createdAt: '2026-11-22T12:00:00.000Z',
  generation,
});

function split(data: Uint8Array, writeSize: number): Buffer[] {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += writeSize) parts.push(Buffer.from(data.subarray(i, i + writeSize)));
  return parts;
}

export async function encrypt(
  data: Uint8Array,
  opts: {
    key?: WriteOnlyKey;
    writeSize?: number;
    aead?: Aead;
    random?: (n: number) => Uint8Array;
    generation?: number;
    onConsumed?: (chunk: Uint8Array) => void;
  } = {},
): Promise<Buffer> {
  const out: Buffer[] = [];
  const stream = createEncryptStream({
    key: opts.key ?? testKey(),
    metadata: metadata(opts.generation),
    aead: opts.aead,
    random: opts.random,
    onConsumed: opts.onConsumed,
  });
  await pipeline(Readable.from(split(data, opts.writeSize ?? 65_536)), stream, async (src: AsyncIterable<Buffer>) => {
    for await (const c of src) out.push(c);
  });
  return Buffer.concat(out);
}

export interface DecryptResult {
  /** Everything the stream released, even when it later failed. */
  released: Buffer;
  error: (Error & { code?: string }) | null;
  stream: DecryptStream;
}

export async function decrypt(
  backup: Uint8Array,
  opts: { key?: KeyMaterial; writeSize?: number; aead?: Aead; stream?: DecryptStream } = {},
): Promise<DecryptResult> {
  const stream = opts.stream ?? createDecryptStream(opts.key ?? testKey(), { aead: opts.aead });
  const out: Buffer[] = [];
  let error: DecryptResult['error'] = null;
  try {
    await pipeline(Readable.from(split(backup, opts.writeSize ?? 65_536)), stream, async (src: AsyncIterable<Buffer>) => {
      for await (const c of src) out.push(c);
    });
  } catch (err) {
    error = err as DecryptResult['error'];
  }
  return { released: Buffer.concat(out), error, stream };
}
