import type { DecodedHeader } from './tar-headers.js';
import type { TarHeader } from './tar-layout.js';

// Plain ustar blocks, written and read here rather than by tar-stream's codec, which allocates a
// zeroed block and writes each field as a string (~6 µs a header, a third of the JavaScript
// thread's time in a backup of 200,000 small files), and reads each field through a view and a
// string (~3 µs). Only blocks the codec would write, and read, the same way come here: headers
// with ASCII names of up to 100 bytes, whose numbers fit their fields, and blocks in exactly the
// layout written here. Everything else goes to the codec. Tests hold the two to each other.

export const BLOCK = 512;
/** The largest value an 11-digit octal field holds (size, mtime). */
const OCTAL_11 = 8 ** 11;
const TYPEFLAGS = { file: 0x30, symlink: 0x32, directory: 0x35 } as const;
const USTAR = [0x75, 0x73, 0x74, 0x61, 0x72, 0x00, 0x30, 0x30]; // "ustar\0" and version "00"

/** Pack's default mode for a mode of 0. */
export const defaultMode = (entry: TarHeader): number => entry.mode || (entry.type === 'directory' ? 0o755 : 0o644);

/** The mtime field's value as tar-stream computes it from a Date: whole seconds, as an int32. */
const mtimeSeconds = (entry: TarHeader): number => (Math.trunc(entry.mtimeMs) / 1000) | 0;

const isShortAscii = (s: string, max: number): boolean => {
  if (s.length > max) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
};

/** Whether tar-stream writes `entry` as one plain ustar block: ASCII names of up to 100 bytes, sizes and times in range. */
export function fitsOneBlock(entry: TarHeader): boolean {
  const size = entry.type === 'file' ? (entry.size ?? 0) : 0;
  return (
    isShortAscii(entry.name, 100) &&
    (!entry.linkname || isShortAscii(entry.linkname, 100)) &&
    size >= 0 &&
    size < OCTAL_11 &&
    mtimeSeconds(entry) >= 0
  );
}

/** Writes `digits` octal digits of `value` and a space at `at`; returns the sum of the bytes. */
function octal(target: Buffer, at: number, value: number, digits: number): number {
  let sum = 0x20;
  target[at + digits] = 0x20;
  for (let i = digits - 1; i >= 0; i--) {
    // Integer arithmetic while it fits in 31 bits (all but sizes of 2 GiB and more).
    const low = value < 0x80000000 ? value & 7 : value % 8;
    target[at + i] = 0x30 + low;
    sum += 0x30 + low;
    value = value < 0x80000000 ? value >>> 3 : (value - low) / 8;
  }
  return sum;
}

/** What every block holds, whatever the entry: uid, gid, magic, version, device numbers. */
const TEMPLATE = Buffer.alloc(BLOCK);
const TEMPLATE_SUM = (() => {
  let sum = 8 * 0x20; // the checksum field counts as spaces
  sum += octal(TEMPLATE, 108, 0, 6); // uid
  sum += octal(TEMPLATE, 116, 0, 6); // gid
  for (const [i, byte] of USTAR.entries()) sum += TEMPLATE[257 + i] = byte;
  sum += octal(TEMPLATE, 329, 0, 6); // devmajor
  sum += octal(TEMPLATE, 337, 0, 6); // devminor
  return sum;
})();

/** Writes `entry` (one that `fitsOneBlock`) as the codec would, at `offset`. */
export function writeBlock(target: Buffer, offset: number, entry: TarHeader): void {
  target.set(TEMPLATE, offset);
  let sum = TEMPLATE_SUM;
  for (let i = 0; i < entry.name.length; i++) sum += target[offset + i] = entry.name.charCodeAt(i);
  sum += octal(target, offset + 100, defaultMode(entry) & 0o7777, 6);
  sum += octal(target, offset + 124, entry.type === 'file' ? (entry.size ?? 0) : 0, 11);
  sum += octal(target, offset + 136, mtimeSeconds(entry), 11);
  sum += target[offset + 156] = TYPEFLAGS[entry.type];
  const link = entry.linkname ?? '';
  for (let i = 0; i < link.length; i++) sum += target[offset + 157 + i] = link.charCodeAt(i);
  octal(target, offset + 148, sum, 6);
}

/** `digits` octal digits and a space at `at`, as written above: their value; -1 for anything else. */
function readOctal(block: Buffer, at: number, digits: number): number {
  if (block[at + digits] !== 0x20) return -1;
  let value = 0;
  for (let i = 0; i < digits; i++) {
    const digit = block[at + i]! - 0x30;
    if (digit < 0 || digit > 7) return -1;
    value = value * 8 + digit;
  }
  return value;
}

/** ASCII up to the first NUL within `length` bytes at `at`, as the codec reads it; null if a byte is not ASCII. */
function readAscii(block: Buffer, at: number, length: number): string | null {
  let end = at;
  while (end < at + length && block[end] !== 0) {
    if (block[end]! > 0x7f) return null;
    end++;
  }
  return block.toString('latin1', at, end);
}

const TYPES: Record<number, 'file' | 'symlink' | 'directory'> = { 0x30: 'file', 0x32: 'symlink', 0x35: 'directory' };

/**
 * The header in a block laid out as `writeBlock` lays them out (a file, folder or symlink; ASCII
 * names; no prefix, user or group names; a valid checksum), as the codec decodes it; undefined
 * for any other block, which the codec then reads.
 */
export function readBlock(block: Buffer): DecodedHeader | undefined {
  const type = TYPES[block[156]!];
  if (!type) return undefined;
  for (let i = 0; i < 6; i++) if (block[257 + i] !== USTAR[i]) return undefined;
  if (block[345] !== 0 || block[265] !== 0 || block[297] !== 0) return undefined; // prefix, uname, gname
  const mode = readOctal(block, 100, 6);
  const uid = readOctal(block, 108, 6);
  const gid = readOctal(block, 116, 6);
  const size = readOctal(block, 124, 11);
  const mtime = readOctal(block, 136, 11);
  const devmajor = readOctal(block, 329, 6);
  const devminor = readOctal(block, 337, 6);
  const checksum = readOctal(block, 148, 6);
  if (Math.min(mode, uid, gid, size, mtime, devmajor, devminor, checksum) < 0) return undefined;
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += block[i]!;
  for (let i = 156; i < BLOCK; i++) sum += block[i]!;
  if (sum !== checksum) return undefined; // the codec says how it is wrong
  const name = readAscii(block, 0, 100);
  const linkname = block[157] === 0 ? null : readAscii(block, 157, 100);
  if (name === null || (linkname === null && block[157] !== 0)) return undefined;
  return { name, mode, uid, gid, size, byteOffset: 0, mtime: new Date(1000 * mtime), type, linkname, uname: '', gname: '', devmajor, devminor, pax: null };
}
