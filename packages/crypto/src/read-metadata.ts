import { corrupted } from './errors.js';
import { findHeaderEnd, MAX_HEADER_BYTES, parseHeader } from './age/header.js';
import { verifyCofferHeader } from './coffer-stanza.js';
import type { WriteOnlyKey } from './key-hierarchy.js';
import type { BackupMetadata } from './metadata.js';
import { ByteQueue } from './stream/byte-queue.js';

export interface HeaderInfo {
  readonly metadata: BackupMetadata;
  /** Length of the age header in bytes (the payload nonce follows it). */
  readonly headerBytes: number;
}

/**
 * Reads and authenticates a backup's metadata from its header alone, consuming at most 64 KiB.
 * Needs only the write-only key: listing backups does not require the ability to read them.
 */
export async function readBackupMetadata(source: AsyncIterable<Uint8Array>, key: WriteOnlyKey): Promise<HeaderInfo> {
  const queue = new ByteQueue();
  for await (const chunk of source) {
    queue.push(chunk);
    const end = findHeaderEnd(queue.peek(Math.min(queue.length, MAX_HEADER_BYTES)));
    if (end !== -1) {
      const header = parseHeader(new Uint8Array(queue.take(end)));
      return { metadata: verifyCofferHeader(header, key), headerBytes: end };
    }
  }
  throw corrupted();
}
