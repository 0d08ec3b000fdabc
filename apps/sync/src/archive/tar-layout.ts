import { tarHeaders as codec } from './tar-headers.js';

/** The header fields the archive sets; tar-stream's `Headers`, narrowed to what we use. */
export interface TarHeader {
  name: string;
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  /** Modification time in milliseconds since the epoch (whole seconds are stored). */
  mtimeMs: number;
  /** Content bytes (files only). */
  size?: number;
  linkname?: string;
}

const BLOCK = 512;
const ZEROS = Buffer.alloc(1024);
/** Two zero blocks: the end of a tar archive. */
export const END_OF_ARCHIVE = ZEROS;

/**
 * The header block(s) of one entry, as tar-stream's Pack writes them: one ustar block, or a pax
 * extended header (long or non-ASCII names) before it. Defaults as Pack applies them.
 */
export function tarHeader(entry: TarHeader): Buffer[] {
  if (fitsOneBlock(entry)) {
    const block = Buffer.allocUnsafe(BLOCK);
    writeBlock(block, 0, entry);
    return [block];
  }
  const header = {
    name: entry.name,
    type: entry.type,
    linkname: entry.linkname,
    mtime: new Date(entry.mtimeMs),
    size: entry.type === 'file' ? (entry.size ?? 0) : 0,
    mode: defaultMode(entry),
    uid: 0,
    gid: 0,
  };
  const plain = codec.encode(header);
  if (plain) return [plain];
  const pax = codec.encodePax({ name: header.name, linkname: header.linkname });
  const paxHeader = { ...header, name: 'PaxHeader', linkname: header.linkname && 'PaxHeader' };
  return [codec.encode({ ...paxHeader, size: pax.byteLength, type: 'pax-header' })!, pax, ...padding(pax.byteLength), codec.encode(paxHeader)!];
}

/** How many bytes `tarHeader(entry)` gives, without making them for the common one-block case. */
export function headerLength(entry: TarHeader): number {
  return fitsOneBlock(entry) ? BLOCK : tarHeader(entry).reduce((n, part) => n + part.length, 0);
}

/** Writes `tarHeader(entry)` into `target` at `offset`, with no buffer of its own in the common case; the bytes written. */
export function writeHeader(target: Buffer, offset: number, entry: TarHeader): number {
  if (fitsOneBlock(entry)) {
    writeBlock(target, offset, entry);
    return BLOCK;
  }
  let at = offset;
  for (const part of tarHeader(entry)) {
    target.set(part, at);
    at += part.length;
  }
  return at - offset;
}

/** How many zeros fill an entry's content of `size` bytes up to a whole 512-byte block. */
export const padLength = (size: number): number => (512 - (size % 512)) % 512;

/** Those zeros. */
export function padding(size: number): Buffer[] {
  const length = padLength(size);
  return length === 0 ? [] : [ZEROS.subarray(0, length)];
}

// One ustar block, written here rather than by tar-stream's encoder: that one allocates a zeroed
// block and writes each field as a string, ~6 µs a header, a third of the JavaScript thread's time
// in a backup of 200,000 small files. Only headers it would also write as one plain block come
// here, byte for byte the same (a test holds the two to each other); all others go to it.

/** The largest value an 11-digit octal field holds (size, mtime). */
const OCTAL_11 = 8 ** 11;
const TYPEFLAGS = { file: 0x30, symlink: 0x32, directory: 0x35 } as const;
const USTAR = [0x75, 0x73, 0x74, 0x61, 0x72, 0x00, 0x30, 0x30]; // "ustar\0" and version "00"

/** Pack's default mode for a mode of 0. */
const defaultMode = (entry: TarHeader): number => entry.mode || (entry.type === 'directory' ? 0o755 : 0o644);

/** The mtime field's value as tar-stream computes it from a Date: whole seconds, as an int32. */
const mtimeSeconds = (entry: TarHeader): number => (Math.trunc(entry.mtimeMs) / 1000) | 0;

const isShortAscii = (s: string, max: number): boolean => {
  if (s.length > max) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
};

/** Whether tar-stream writes `entry` as one plain ustar block: ASCII names of up to 100 bytes, sizes and times in range. */
function fitsOneBlock(entry: TarHeader): boolean {
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

function writeBlock(target: Buffer, offset: number, entry: TarHeader): void {
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
