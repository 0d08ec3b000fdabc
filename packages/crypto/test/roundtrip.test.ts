import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, createDecryptStream, createEncryptStream, nobleAead, nodeAead, readBackupMetadata, toWriteOnly } from '../src/index.js';
import { nativeAddon } from '../src/native/addon.js';
import { decrypt, encrypt, fixedRandom, metadata, pseudoRandom, testKey } from './helpers.js';

const K = CHUNK_BYTES;
const LENGTHS = [0, 1, K - 1, K, K + 1, 2 * K, 2 * K + 1, 3 * K - 1, 12_345, 200_003];
const WRITE_SIZES = [1, 7, 4096, K - 1, K, K + 1, 1 << 20];

describe('round trip', () => {
  for (const length of LENGTHS) {
    it(`length ${length} across write sizes`, async () => {
      const data = pseudoRandom(length, length);
      for (const writeSize of WRITE_SIZES) {
        if (writeSize === 1 && length > 2 * K + 1) continue; // byte-by-byte is slow; covered for the small lengths
        const backup = await encrypt(data, { writeSize });
        const { released, error, stream } = await decrypt(backup, { writeSize: Math.max(1, (writeSize * 3) % (K + 17)) });
        expect(error).toBeNull();
        expect(released.equals(data)).toBe(true);
        expect(stream.metadata).toMatchObject({ ...metadata(), keyId: testKey().keyId, format: 1 });
      }
    });
  }

  it('random lengths', async () => {
    for (let i = 0; i < 20; i++) {
      const length = Math.floor(Math.random() * 5 * K);
      const data = pseudoRandom(length, 777 + i);
      const { released, error } = await decrypt(await encrypt(data, { writeSize: 1 + Math.floor(Math.random() * 100_000) }));
      expect(error).toBeNull();
      expect(released.equals(data)).toBe(true);
    }
  });

  it('the native batcher, node:crypto and noble produce identical bytes and read each other', async () => {
    expect(nativeAddon, 'the native batcher is not built: run pnpm build').not.toBeNull();
    // Up to a batch (BATCH_BYTES) everything is sealed at the end; 40 and 150 chunks + 5 bytes in
    // 1 MiB writes are sealed in batches on the way, then the rest at the end; every batch is
    // split in two thread-pool jobs, whose input spans several writes.
    for (const length of [0, 1, K, K + 1, 3 * K + 5, 40 * K + 5, 150 * K + 5]) {
      const data = pseudoRandom(length, 99);
      const native = await encrypt(data, { random: fixedRandom(length), writeSize: 1 << 20 });
      const node = await encrypt(data, { aead: nodeAead, random: fixedRandom(length) });
      const reference = await encrypt(data, { aead: nobleAead, random: fixedRandom(length) });
      expect(native.equals(reference)).toBe(true);
      expect(node.equals(reference)).toBe(true);
      expect((await decrypt(native, { aead: nobleAead })).released.equals(data)).toBe(true);
      expect((await decrypt(reference, { aead: nodeAead })).released.equals(data)).toBe(true);
      expect((await decrypt(reference, { writeSize: 1 << 20 })).released.equals(data)).toBe(true);
    }
  });

  it('hands each written chunk back once, only when done with it: chunks overwritten at once leave the backup intact', async () => {
    for (const aead of [undefined, nodeAead]) {
      for (const [length, writeSize] of [[150 * K + 5, 1 << 20], [40 * K + 5, 100_000], [3 * K, 7_000], [K, K], [1, 1], [0, 1]] as const) {
        const data = pseudoRandom(length, 5);
        const seen = new Set<Uint8Array>();
        let consumed = 0;
        const poisoned = await encrypt(data, {
          aead,
          random: fixedRandom(length),
          writeSize,
          onConsumed: (chunk) => {
            expect(seen.has(chunk)).toBe(false);
            seen.add(chunk);
            consumed += chunk.length;
            chunk.fill(0xff); // what a writer reusing the memory at once would do
          },
        });
        expect(poisoned.equals(await encrypt(data, { aead: nobleAead, random: fixedRandom(length), writeSize }))).toBe(true);
        expect(consumed).toBe(length);
      }
    }
  });

  it('with crc32, reports the CRC-32 of exactly the bytes it emitted, on every path', async () => {
    for (const aead of [undefined, nodeAead, nobleAead]) {
      for (const [length, writeSize] of [[0, 1], [1, 1], [K, K], [3 * K + 5, 7_000], [150 * K + 5, 1 << 20]] as const) {
        const data = pseudoRandom(length, 6);
        const stream = createEncryptStream({ key: testKey(), metadata: metadata(), aead, crc32: true });
        const out: Buffer[] = [];
        const pieces = Array.from({ length: Math.ceil(length / writeSize) }, (_, i) => data.subarray(i * writeSize, (i + 1) * writeSize));
        await pipeline(Readable.from(pieces), stream, async (src: AsyncIterable<Buffer>) => {
          for await (const c of src) out.push(c);
        });
        expect(stream.crc32).toBe(crc32(Buffer.concat(out)).toString(16).padStart(8, '0'));
      }
    }
    expect(createEncryptStream({ key: testKey(), metadata: metadata() }).crc32).toBeUndefined();
  });

  it('the ciphertext size is header + 16 per chunk, independent of content', async () => {
    const a = await encrypt(pseudoRandom(3 * K, 1));
    const b = await encrypt(Buffer.alloc(3 * K));
    expect(a.length).toBe(b.length);
  });
});

describe('write-only key', () => {
  it('makes backups whose metadata it can authenticate but cannot decrypt', async () => {
    const full = testKey();
    const writeOnly = toWriteOnly(full);
    const data = pseudoRandom(100_000, 5);
    const backup = await encrypt(data, { key: writeOnly, generation: 7 });
    const info = await readBackupMetadata(Readable.from([backup.subarray(0, 300), backup.subarray(300)]), writeOnly);
    expect(info.metadata.generation).toBe(7);
    expect(info.metadata.keyId).toBe(full.keyId);
    expect((await decrypt(backup, { key: full })).released.equals(data)).toBe(true);
    // createDecryptStream needs the identity; a write-only key has none (types forbid it, runtime too).
    expect(() => createDecryptStream(writeOnly as never)).not.toThrow();
    const { error } = await decrypt(backup, { stream: createDecryptStream(writeOnly as never) });
    expect(error).not.toBeNull();
  });

  it('readBackupMetadata reads only the header', async () => {
    const backup = await encrypt(pseudoRandom(10 * K, 3));
    let consumed = 0;
    async function* source() {
      for (let i = 0; i < backup.length; i += 100) {
        consumed += 100;
        yield backup.subarray(i, i + 100);
      }
    }
    await readBackupMetadata(source(), testKey());
    expect(consumed).toBeLessThan(1000);
  });
});

describe('memory', () => {
  it('stays bounded while 256 MiB stream through encrypt and decrypt', async () => {
    const total = 256 * 1024 * 1024;
    const block = pseudoRandom(1 << 20, 1);
    let produced = 0;
    const source = new Readable({
      read() {
        if (produced >= total) return this.push(null);
        produced += block.length;
        this.push(block);
      },
    });
    let seen = 0;
    let peak = 0;
    const baseline = process.memoryUsage().rss;
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        if ((seen & 0xfffff) < chunk.length) peak = Math.max(peak, process.memoryUsage().rss);
        cb();
      },
    });
    const key = testKey();
    await pipeline(source, createEncryptStream({ key, metadata: metadata() }), createDecryptStream(key), sink);
    expect(seen).toBe(total);
    expect(peak - baseline).toBeLessThan(96 * 1024 * 1024);
  });
});
