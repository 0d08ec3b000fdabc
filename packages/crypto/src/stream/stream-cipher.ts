import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Aead } from '../aead.js';
import { TAG_BYTES } from '../aead.js';
import { utf8 } from '../bytes.js';
import { corrupted } from '../errors.js';
import type { NativeAddon } from '../native/addon.js';
import type { ByteQueue } from './byte-queue.js';

/** age STREAM parameters (SPEC §3). */
export const CHUNK_BYTES = 64 * 1024;
export const SEALED_CHUNK_BYTES = CHUNK_BYTES + TAG_BYTES;
export const PAYLOAD_NONCE_BYTES = 16;

/** Bytes the streams gather before sealing or opening a batch of chunks in one go. */
export const BATCH_BYTES = 2 << 20;

export function payloadKey(fileKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return hkdf(sha256, fileKey, nonce, utf8('payload'), 32);
}

/** 11-byte big-endian counter ‖ last flag. */
function chunkNonce(counter: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(12);
  let c = counter;
  for (let i = 10; i >= 0 && c > 0; i--) {
    nonce[i] = c % 256;
    c = Math.floor(c / 256);
  }
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** Resolves false on failure; true, or a number the job computed (a CRC-32), on success. */
type ChunkJob = (counter: number, inputs: Buffer[], output: Uint8Array) => Promise<boolean | number>;

/** The views covering bytes [start, end) of `views` laid end to end. */
function slice(views: readonly Buffer[], start: number, end: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const view of views) {
    const from = Math.max(start, at);
    const to = Math.min(end, at + view.length);
    if (from < to) out.push(view.subarray(from - at, to - at));
    at += view.length;
  }
  return out;
}

/**
 * Runs `job` over `count` whole units laid end to end in `views`, in two halves, so that two
 * thread-pool jobs (one per core here) run at once. Nothing is copied: each job reads the chunks
 * where they lie. Resolves to the output, or null if either half failed. No input may be touched,
 * and none is handed back, before both settle.
 */
async function runUnits(
  views: readonly Buffer[],
  count: number,
  inUnit: number,
  outUnit: number,
  counter: number,
  job: ChunkJob,
): Promise<{ out: Buffer; results: (true | number)[]; outLengths: number[] } | null> {
  const out = Buffer.allocUnsafe(count * outUnit);
  const half = Math.ceil(count / 2);
  const jobs: Promise<boolean | number>[] = [];
  const outLengths: number[] = [];
  for (let from = 0; from < count; from += half) {
    const n = Math.min(half, count - from);
    jobs.push(job(counter + from, slice(views, from * inUnit, (from + n) * inUnit), out.subarray(from * outUnit, (from + n) * outUnit)));
    outLengths.push(n * outUnit);
  }
  const results = await Promise.all(jobs);
  return results.includes(false) ? null : { out, results: results as (true | number)[], outLengths };
}

/** Seals successive chunks; the caller says which one is last. */
export class ChunkSealer {
  private counter = 0;
  private done = false;
  constructor(
    private readonly key: Uint8Array,
    private readonly aead: Aead,
    private readonly native: NativeAddon | null = null,
    /** Have the thread pool also compute each batch's CRC-32 (native only). */
    private readonly withCrc32 = false,
  ) {}

  /**
   * Seals `count` full, non-final chunks from `queue` into one buffer; with `withCrc32` on the
   * native path, also returns that buffer's CRC-32.
   */
  async sealFull(queue: ByteQueue, count: number): Promise<{ sealed: Buffer; crc32?: number }> {
    if (this.done) throw new Error('STREAM: chunk after the last chunk');
    const counter = this.counter;
    this.counter += count;
    if (this.native) {
      const native = this.native;
      const job: ChunkJob = this.withCrc32 ? (c, i, o) => native.sealChunks(this.key, c, i, o, true) : (c, i, o) => native.sealChunks(this.key, c, i, o);
      const ran = await runUnits(queue.takeViews(count * CHUNK_BYTES), count, CHUNK_BYTES, SEALED_CHUNK_BYTES, counter, job);
      if (!ran) throw new Error('STREAM: sealing failed');
      if (!this.withCrc32) return { sealed: ran.out };
      const crcs = ran.results as number[];
      return { sealed: ran.out, crc32: crcs.reduce((crc, next, i) => native.crc32Combine(crc, next, ran.outLengths[i]!)) };
    }
    const out = Buffer.allocUnsafe(count * SEALED_CHUNK_BYTES);
    for (let i = 0; i < count; i++) this.aead.sealInto(out, i * SEALED_CHUNK_BYTES, this.key, chunkNonce(counter + i, false), queue.take(CHUNK_BYTES));
    return { sealed: out };
  }

  /** Seals the final chunk; after it, nothing more may be sealed. */
  sealLast(plaintext: Uint8Array): Buffer {
    if (this.done) throw new Error('STREAM: chunk after the last chunk');
    if (plaintext.length > CHUNK_BYTES) throw new Error('STREAM: chunk too large');
    // Only a lone final chunk may be empty: an empty final chunk after data is invalid in age.
    if (plaintext.length === 0 && this.counter !== 0) throw new Error('STREAM: empty chunk');
    const out = Buffer.allocUnsafe(plaintext.length + TAG_BYTES);
    this.aead.sealInto(out, 0, this.key, chunkNonce(this.counter++, true), plaintext);
    this.done = true;
    return out;
  }
}

/**
 * What an opener releases: the plaintext of every chunk that authenticated, in order, up to the
 * first failure; `failed` says the stream must end in the CORRUPTED error after it.
 */
export interface Opened {
  readonly plaintext: Buffer;
  readonly failed: boolean;
}

/**
 * Opens successive chunks. Releases exactly what age's reference reader releases (the C2SP CCTV
 * vectors check this): every chunk that authenticates before the first that does not, and a chunk
 * that authenticates only with the flag it should not have (last with data after it, or not last
 * at the end of the stream) before failing — its plaintext is authentic, the stream is not.
 */
export class ChunkOpener {
  private counter = 0;
  constructor(
    private readonly key: Uint8Array,
    private readonly aead: Aead,
    private readonly native: NativeAddon | null = null,
  ) {}

  /** Opens `count` full sealed chunks from `queue`, none of them the stream's last. */
  async openFull(queue: ByteQueue, count: number): Promise<Opened> {
    const counter = this.counter;
    this.counter += count;
    const views = queue.takeViews(count * SEALED_CHUNK_BYTES);
    if (this.native) {
      const native = this.native;
      const ran = await runUnits(views, count, SEALED_CHUNK_BYTES, CHUNK_BYTES, counter, (c, i, o) => native.openChunks(this.key, c, i, o));
      if (ran) return { plaintext: ran.out, failed: false };
      // Some chunk failed: find which, one at a time, to release what came before it.
    }
    const out = Buffer.allocUnsafe(count * CHUNK_BYTES);
    for (let i = 0; i < count; i++) {
      const parts = slice(views, i * SEALED_CHUNK_BYTES, (i + 1) * SEALED_CHUNK_BYTES);
      const sealed = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      const plaintext = this.aead.open(this.key, chunkNonce(counter + i, false), sealed);
      if (plaintext) {
        out.set(plaintext, i * CHUNK_BYTES);
        continue;
      }
      // A final chunk with data after it (SPEC §3: nothing may follow the last chunk).
      const final = this.aead.open(this.key, chunkNonce(counter + i, true), sealed);
      if (final) out.set(final, i * CHUNK_BYTES);
      return { plaintext: out.subarray(0, (final ? i + 1 : i) * CHUNK_BYTES), failed: true };
    }
    return { plaintext: out, failed: false };
  }

  /** Opens the stream's final chunk: what is left once the stream has ended. */
  openLast(sealed: Uint8Array): Opened {
    const none = { plaintext: Buffer.alloc(0), failed: true };
    if (sealed.length < TAG_BYTES || sealed.length > SEALED_CHUNK_BYTES) return none;
    const plaintext = this.aead.open(this.key, chunkNonce(this.counter, true), sealed);
    if (!plaintext) {
      // A full chunk not flagged last: the stream was cut after it (SPEC §3).
      const cut = sealed.length === SEALED_CHUNK_BYTES ? this.aead.open(this.key, chunkNonce(this.counter, false), sealed) : null;
      return cut ? { plaintext: Buffer.from(cut.buffer, cut.byteOffset, cut.length), failed: true } : none;
    }
    // An empty final chunk is valid only as the whole payload of an empty file.
    if (plaintext.length === 0 && this.counter > 0) return none;
    this.counter += 1;
    return { plaintext: Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.length), failed: false };
  }
}
