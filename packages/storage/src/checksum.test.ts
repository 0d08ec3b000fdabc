import { createHash, randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checksumOf, createChecksum, type ChecksumAlgorithm } from './checksum.js';

describe('checksums', () => {
  // The CRC-32/ISO-HDLC check value from the CRC catalogue (reveng.sourceforge.io/crc-catalogue),
  // and one whose value has a leading zero digit, to pin the 8-digit format.
  it('crc32 matches the published check value and keeps leading zeros', () => {
    expect(checksumOf('crc32', Buffer.from('123456789'))).toBe('cbf43926');
    expect(checksumOf('crc32', Buffer.alloc(0))).toBe('00000000');
    expect(checksumOf('crc32', Buffer.from('c'))).toBe('06b9df6f'); // Python's binascii.crc32 agrees
  });

  it('crc32 equals zlib\'s at every length and alignment its SIMD paths treat differently', () => {
    const data = randomBytes((2 << 20) + 100);
    for (const start of [0, 1, 3, 15, 16, 63]) {
      for (const length of [0, 1, 15, 16, 63, 64, 65, 255, 256, 4095, 65_552, 2 << 20]) {
        const piece = data.subarray(start, start + length);
        expect(checksumOf('crc32', piece), `at ${start}+${length}`).toBe(zlibCrc32(piece).toString(16).padStart(8, '0'));
      }
    }
  });

  it('sha256 and md5 are the standard digests', () => {
    const data = Buffer.from('coffer');
    expect(checksumOf('sha256', data)).toBe(createHash('sha256').update(data).digest('hex'));
    expect(checksumOf('md5', data)).toBe(createHash('md5').update(data).digest('hex'));
  });

  it.each<ChecksumAlgorithm>(['crc32', 'sha256', 'md5'])('%s fed in pieces equals %s of the whole, and differs after one flipped bit', (algorithm) => {
    const data = createHash('sha512').update('seed').digest();
    const running = createChecksum(algorithm);
    for (let i = 0; i < data.length; i += 7) running.update(data.subarray(i, i + 7));
    expect(running.digest()).toBe(checksumOf(algorithm, data));
    const flipped = Buffer.from(data);
    flipped[13]! ^= 0x10;
    expect(checksumOf(algorithm, flipped)).not.toBe(checksumOf(algorithm, data));
  });
});
