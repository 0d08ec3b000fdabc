import { randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { nodeAead, type Aead } from './aead.js';
import { b64encode, utf8, wipe } from './bytes.js';
import { headerPrefix, type Stanza } from './age/header.js';
import { wrapFileKey } from './age/x25519-stanza.js';
import { buildCofferStanza } from './coffer-stanza.js';
import { headerMac } from './header-mac.js';
import type { WriteOnlyKey } from './key-hierarchy.js';
import { encodeMetadata, type BackupMetadata, type BackupMetadataInput } from './metadata.js';
import { nativeAddon } from './native/addon.js';
import { ByteQueue } from './stream/byte-queue.js';
import { BATCH_BYTES, CHUNK_BYTES, ChunkSealer, PAYLOAD_NONCE_BYTES, payloadKey } from './stream/stream-cipher.js';

export interface EncryptOptions {
  /** The write-only key suffices (SPEC §2); a full KeyMaterial works too. */
  readonly key: WriteOnlyKey;
  readonly metadata: BackupMetadataInput;
  /** Tests only: the reference implementation, to prove both produce identical bytes. */
  readonly aead?: Aead;
  /** Tests only: deterministic randomness for byte-for-byte comparisons. */
  readonly random?: (n: number) => Uint8Array;
  /**
   * Called with each written chunk once the stream holds no reference to it, not even a view: the
   * writer may then reuse its memory. Chunks still queued when the stream fails are never passed.
   */
  readonly onConsumed?: (chunk: Uint8Array) => void;
  /** Also compute the CRC-32 of every byte the stream emits: `crc32` once it has ended. */
  readonly crc32?: boolean;
}

/**
 * An age header to `recipient` (SPEC §3): its X25519 stanza, then whatever `extra` builds from the
 * header so far; the MAC line and the payload nonce follow. Returns it with the payload key.
 */
export function buildAgeHeader(
  recipient: Uint8Array,
  random: (n: number) => Uint8Array,
  extra?: (prefix: Uint8Array) => Stanza,
): { header: Uint8Array; payloadKey: Uint8Array } {
  const fileKey = random(16);
  const ephemeral = random(32);
  const nonce = random(PAYLOAD_NONCE_BYTES);
  const x25519 = wrapFileKey(recipient, fileKey, ephemeral);
  const stanzas = extra ? [x25519, extra(utf8(headerPrefix([x25519])))] : [x25519];
  const macInput = utf8(`${headerPrefix(stanzas)}---`);
  const mac = headerMac(fileKey, macInput);
  const header = Buffer.concat([macInput, utf8(` ${b64encode(mac)}\n`), nonce]);
  const key = payloadKey(fileKey, nonce);
  wipe(fileKey, ephemeral);
  return { header, payloadKey: key };
}

export const secureRandom = (n: number) => new Uint8Array(randomBytes(n));

/** Builds the complete header of a Coffer backup (SPEC §3–4) and returns it with the payload key. */
export function buildHeader(options: EncryptOptions): { header: Uint8Array; payloadKey: Uint8Array; metadata: BackupMetadata } {
  const metadataBytes = encodeMetadata(options.metadata);
  const { header, payloadKey: key } = buildAgeHeader(options.key.recipient, options.random ?? secureRandom, (prefix) => buildCofferStanza(options.key, prefix, metadataBytes));
  const { backupId, source, createdAt, generation, format = 1 } = options.metadata;
  return { header, payloadKey: key, metadata: { format, backupId, source, createdAt, generation, keyId: options.key.keyId } };
}

/** Plaintext in, Coffer backup (a valid age file) out, in 64 KiB chunks: memory stays bounded. */
export class EncryptStream extends Transform {
  readonly metadata: BackupMetadata;
  private readonly queue: ByteQueue;
  private readonly sealer: ChunkSealer;
  private readonly onConsumed: ((chunk: Uint8Array) => void) | undefined;
  private crc: number | undefined;

  constructor(options: EncryptOptions) {
    super();
    const { header, payloadKey: key, metadata } = buildHeader(options);
    this.metadata = metadata;
    this.onConsumed = options.onConsumed;
    this.queue = new ByteQueue(options.onConsumed !== undefined);
    // The native batcher is OpenSSL too; a test that passes its own AEAD gets exactly that AEAD.
    this.sealer = options.aead ? new ChunkSealer(key, options.aead) : new ChunkSealer(key, nodeAead, nativeAddon, options.crc32);
    if (options.crc32) this.crc = 0;
    this.send(header);
  }

  /**
   * The CRC-32 (8 hex digits) of everything the stream emitted, when asked for; read it after the
   * stream ended. The thread pool computes it on the native path, where the bytes are in cache.
   */
  get crc32(): string | undefined {
    return this.crc?.toString(16).padStart(8, '0');
  }

  /** Pushes `bytes` on, adding them (or their CRC-32 from the thread pool) to the running CRC. */
  private send(bytes: Uint8Array, crc?: number): void {
    if (this.crc !== undefined) this.crc = crc === undefined ? zlibCrc32(bytes, this.crc) : nativeAddon!.crc32Combine(this.crc, crc, bytes.length);
    this.push(bytes);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.queue.push(chunk);
    // Small writes (a tar header, a small file) wait in the queue for a batch: one thread-pool
    // round trip and one output buffer per 64 KiB chunk would cost more than the sealing.
    if (this.queue.length <= BATCH_BYTES) return callback();
    this.sealFullChunks().then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.sealFullChunks()
      .then(() => {
        this.send(this.sealer.sealLast(this.queue.take(this.queue.length)));
        this.release();
      })
      .then(() => callback(), callback);
  }

  /**
   * Seals every queued chunk but the last one: a full chunk is sealed only once a byte beyond it
   * exists, because only then is it known not to be the final chunk. One output buffer per batch.
   */
  private async sealFullChunks(): Promise<void> {
    const full = Math.floor((this.queue.length - 1) / CHUNK_BYTES);
    if (full <= 0) return;
    const { sealed, crc32 } = await this.sealer.sealFull(this.queue, full);
    this.send(sealed, crc32);
    // Only now: the thread-pool jobs read from views into these chunks until they finish.
    this.release();
  }

  private release(): void {
    const dropped = this.queue.takeDropped();
    if (this.onConsumed) for (const chunk of dropped) this.onConsumed(chunk);
  }
}

export function createEncryptStream(options: EncryptOptions): EncryptStream {
  return new EncryptStream(options);
}

