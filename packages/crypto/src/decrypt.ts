import { Transform, type TransformCallback } from 'node:stream';
import { nodeAead, type Aead } from './aead.js';
import { equalBytes, wipe } from './bytes.js';
import { corrupted } from './errors.js';
import { findHeaderEnd, parseHeader, type ParsedHeader } from './age/header.js';
import { unwrapFileKey } from './age/x25519-stanza.js';
import { verifyCofferHeader } from './coffer-stanza.js';
import { headerMac } from './header-mac.js';
import type { KeyMaterial } from './key-hierarchy.js';
import type { BackupMetadata } from './metadata.js';
import { nativeAddon } from './native/addon.js';
import { ByteQueue } from './stream/byte-queue.js';
import { BATCH_BYTES, ChunkOpener, PAYLOAD_NONCE_BYTES, SEALED_CHUNK_BYTES, payloadKey, type Opened } from './stream/stream-cipher.js';

type HeaderOpener = (header: ParsedHeader) => { fileKey: Uint8Array; metadata: BackupMetadata | null };

function checkHeaderMac(header: ParsedHeader, fileKey: Uint8Array): void {
  if (!equalBytes(headerMac(fileKey, header.macInput), header.mac)) throw corrupted();
}

/** SPEC §4: metadata first (constant-time MAC), then the file key, then the age header MAC. */
export function cofferOpener(key: KeyMaterial): HeaderOpener {
  return (header) => {
    const metadata = verifyCofferHeader(header, key);
    const fileKey = unwrapFileKey(key.identity, header.stanzas[0]!);
    if (!fileKey) throw corrupted();
    checkHeaderMac(header, fileKey);
    return { fileKey, metadata };
  };
}

/**
 * SPEC §6: any age file for these identities; unknown stanza types are skipped as age requires,
 * but a malformed X25519 stanza fails the file wherever it stands (the age spec's MUST).
 */
export function plainAgeOpener(identities: readonly Uint8Array[]): HeaderOpener {
  return (header) => {
    // Every X25519 stanza is unwrapped, so a malformed one fails the file even after a match.
    let fileKey: Uint8Array | null = null;
    for (const stanza of header.stanzas) {
      if (stanza.args[0] !== 'X25519') continue;
      for (const identity of identities) fileKey = unwrapFileKey(identity, stanza) ?? fileKey;
    }
    if (!fileKey) throw corrupted();
    checkHeaderMac(header, fileKey);
    return { fileKey, metadata: null };
  };
}

export interface DecryptOptions {
  /** Tests only: the reference AEAD. */
  readonly aead?: Aead;
}

/**
 * Backup in, plaintext out. Every chunk is authenticated before any of its bytes are pushed; the
 * stream errors (and never ends cleanly) if the backup is truncated, extended or altered, so a
 * caller using `pipeline` cannot mistake a damaged backup for a complete one.
 */
export class DecryptStream extends Transform {
  /** Set once the header has been authenticated; also emitted as the 'metadata' event. */
  metadata: BackupMetadata | null = null;
  private readonly queue = new ByteQueue();
  private opener: ChunkOpener | null = null;

  constructor(
    private readonly openHeader: HeaderOpener,
    options: DecryptOptions = {},
  ) {
    super();
    this.aead = options.aead;
  }
  private readonly aead: Aead | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.queue.push(chunk);
    try {
      if (!this.opener && !this.readHeader()) return callback();
    } catch (err) {
      return callback(err as Error);
    }
    // Small reads wait in the queue for a batch: a thread-pool round trip per few chunks costs
    // more than the opening.
    if (this.queue.length <= BATCH_BYTES) return callback();
    this.openFullChunks().then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.opener) return callback(corrupted());
    this.openFullChunks()
      .then(() => this.release(this.opener!.openLast(this.queue.take(this.queue.length))))
      .then(() => callback(), callback);
  }

  /** Opens every queued sealed chunk but the last: only the end of the stream says which is last. */
  private async openFullChunks(): Promise<void> {
    const full = Math.floor((this.queue.length - 1) / SEALED_CHUNK_BYTES);
    if (full > 0) this.release(await this.opener!.openFull(this.queue, full));
  }

  /** Pushes what authenticated; then fails if the stream stopped authenticating (SPEC §3). */
  private release({ plaintext, failed }: Opened): void {
    if (plaintext.length > 0) this.push(plaintext);
    if (failed) throw corrupted();
  }

  private readHeader(): boolean {
    const end = findHeaderEnd(this.queue.peek(Math.min(this.queue.length, 64 * 1024)));
    if (end === -1 || this.queue.length < end + PAYLOAD_NONCE_BYTES) return false;
    const header = parseHeader(new Uint8Array(this.queue.take(end)));
    const nonce = this.queue.take(PAYLOAD_NONCE_BYTES);
    const { fileKey, metadata } = this.openHeader(header);
    const key = payloadKey(fileKey, nonce);
    // The native batcher is OpenSSL too; a test that passes its own AEAD gets exactly that AEAD.
    this.opener = this.aead ? new ChunkOpener(key, this.aead) : new ChunkOpener(key, nodeAead, nativeAddon);
    wipe(fileKey);
    this.metadata = metadata;
    if (metadata) this.emit('metadata', metadata);
    return true;
  }
}

export function createDecryptStream(key: KeyMaterial, options?: DecryptOptions): DecryptStream {
  return new DecryptStream(cofferOpener(key), options);
}

/** Decrypts a plain age file for the identity (SPEC §6); its output carries no Coffer metadata. */
export function createAgeDecryptStream(identity: Uint8Array | readonly Uint8Array[], options?: DecryptOptions): DecryptStream {
  return new DecryptStream(plainAgeOpener(identity instanceof Uint8Array ? [identity] : identity), options);
}
