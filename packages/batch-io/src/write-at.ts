import { getSystemErrorMap } from 'node:util';
import type { BatchIoAddon } from './addon.js';

/**
 * Writes all of `data` at `position` of the open file `fd`, in one thread-pool job that also takes
 * the CRC-32 (zlib's, ISO-HDLC) of the bytes while they are in cache: resolves to that of every
 * byte so far, given `crc`, that of the bytes before. A failure rejects with an error shaped like
 * Node's own (code, errno, syscall).
 */
export async function writeAt(addon: BatchIoAddon, fd: number, data: Uint8Array, position: number, crc: number): Promise<number> {
  try {
    return await addon.writeAt(fd, data, position, crc);
  } catch (status) {
    if (typeof status !== 'number') throw status;
    if (status === 0) throw new Error('write was cancelled');
    const [code, description] = getSystemErrorMap().get(status) ?? ['EIO', 'i/o error'];
    throw Object.assign(new Error(`${code}: ${description}, write`), { code, errno: status, syscall: 'write' });
  }
}
