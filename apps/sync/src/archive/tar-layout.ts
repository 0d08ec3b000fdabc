import { tarHeaders as codec } from './tar-headers.js';
import { BLOCK, defaultMode, fitsOneBlock, writeBlock } from './ustar-block.js';

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

/** How many zeros fill an entry's content of `size` bytes up to a whole 512-byte block. */
export const padLength = (size: number): number => (512 - (size % 512)) % 512;

/** Those zeros. */
export function padding(size: number): Buffer[] {
  const length = padLength(size);
  return length === 0 ? [] : [ZEROS.subarray(0, length)];
}
