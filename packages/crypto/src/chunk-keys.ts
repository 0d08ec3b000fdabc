import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { abytes, utf8 } from './bytes.js';

/** SPEC §2: the chunker's gear table, 256 little-endian 32-bit words, from the gear key. */
export function gearTable(gearKey: Uint8Array): Uint32Array {
  abytes('gear key', gearKey, 32);
  const bytes = hkdf(sha256, gearKey, new Uint8Array(0), utf8('coffer/v2/gear-table'), 1024);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return Uint32Array.from({ length: 256 }, (_, i) => view.getUint32(i * 4, true));
}

/** SPEC §9: a chunk's id, 64 hex digits of HMAC-SHA-256 under the chunk-id key. */
export function chunkId(chunkIdKey: Uint8Array, chunk: Uint8Array): string {
  abytes('chunk-id key', chunkIdKey, 32);
  return Buffer.from(hmac(sha256, chunkIdKey, chunk)).toString('hex');
}
