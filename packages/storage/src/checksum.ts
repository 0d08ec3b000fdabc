import { createHash } from 'node:crypto';
// crc32fast (PCLMULQDQ where the CPU has it): 2-5x zlib's on this thread, which also writes.
import { crc32 } from '@node-rs/crc32';

/** Checksums a backend can report for the bytes it stored. */
export type ChecksumAlgorithm = 'sha256' | 'md5' | 'crc32';

/** A checksum fed piece by piece; `digest` is lowercase hex. */
export interface RunningChecksum {
  update(data: Uint8Array): void;
  digest(): string;
}

/**
 * 'crc32' is CRC-32/ISO-HDLC (zlib, gzip, PNG, S3's `CRC32`) as 8 hex digits. It detects
 * accidental damage (truncation, dropped or repeated writes, flipped bits), which is what upload
 * verification is for, at several times the speed of SHA-256. It is no defence against forgery;
 * backups are authenticated by their own MACs, not by this.
 */
export function createChecksum(algorithm: ChecksumAlgorithm): RunningChecksum {
  if (algorithm === 'crc32') {
    let value = 0;
    return {
      update: (data) => void (value = crc32(data, value)),
      digest: () => crc32Hex(value),
    };
  }
  const hash = createHash(algorithm);
  return { update: (data) => void hash.update(data), digest: () => hash.digest('hex') };
}

/** A CRC-32 as `digest` gives it: 8 lowercase hex digits. */
export const crc32Hex = (value: number): string => value.toString(16).padStart(8, '0');

/** The checksum of one whole buffer. */
export const checksumOf = (algorithm: ChecksumAlgorithm, data: Uint8Array): string => {
  const sum = createChecksum(algorithm);
  sum.update(data);
  return sum.digest();
};
