import { createHmac } from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { abytes, utf8 } from './bytes.js';

/** SPEC §2: the chunker's gear table, 256 little-endian 32-bit words, from the gear key. */
export function gearTable(gearKey: Uint8Array): Uint32Array {
  abytes('gear key', gearKey, 32);
  const bytes = hkdf(sha256, gearKey, new Uint8Array(0), utf8('coffer/v2/gear-table'), 1024);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return Uint32Array.from({ length: 256 }, (_, i) => view.getUint32(i * 4, true));
}

/**
 * SPEC §9: a chunk's id, 64 hex digits of HMAC-SHA-256 under the chunk-id key. node:crypto: it
 * runs over every byte of every backup (the tests hold it to @noble/hashes).
 */
export function chunkId(chunkIdKey: Uint8Array, chunk: Uint8Array): string {
  abytes('chunk-id key', chunkIdKey, 32);
  return createHmac('sha256', chunkIdKey).update(chunk).digest('hex');
}

/** SPEC §12: a source's folder name, `s` and 32 hex digits, which reveals nothing of its name. */
export function sourceId(sourceIdKey: Uint8Array, source: string): string {
  abytes('source-id key', sourceIdKey, 32);
  return `s${createHmac('sha256', sourceIdKey).update(source, 'utf8').digest('hex').slice(0, 32)}`;
}

/** SPEC §11: the MAC of a reference list's text before its `mac` line, 64 hex digits. */
export function refsMac(refsMacKey: Uint8Array, text: Uint8Array): string {
  abytes('refs MAC key', refsMacKey, 32);
  return createHmac('sha256', refsMacKey).update(text).digest('hex');
}
