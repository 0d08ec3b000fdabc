import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from '@node-rs/crc32';
import { afterAll, describe, expect, it } from 'vitest';
import { batchIoAddon } from './addon.js';
import { writeAt } from './write-at.js';

const dir = mkdtempSync(join(tmpdir(), 'coffer-write-at-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeAt', () => {
  const addon = batchIoAddon!;

  it('writes each piece where it goes and returns the CRC-32 of all so far, as crc32fast computes it', async () => {
    const pieces = [randomBytes(3 << 20), Buffer.alloc(0), randomBytes(1), randomBytes(65_537)];
    const path = join(dir, 'out');
    const fd = openSync(path, 'wx');
    let crc = 0;
    let at = 0;
    for (const piece of pieces) {
      crc = await writeAt(addon, fd, piece, at, crc);
      at += piece.length;
      expect(crc).toBe(crc32(readFileSync(path)));
    }
    closeSync(fd);
    expect(readFileSync(path).equals(Buffer.concat(pieces))).toBe(true);
  });

  it('rejects with an error shaped like Node’s', async () => {
    const fd = openSync(join(dir, 'read-only'), 'wx');
    closeSync(fd);
    const readOnly = openSync(join(dir, 'read-only'), 'r');
    await expect(writeAt(addon, readOnly, Buffer.from('x'), 0, 0)).rejects.toMatchObject({ code: 'EBADF', syscall: 'write' });
    closeSync(readOnly);
    expect(() => addon.writeAt(-1, Buffer.from('x'), 0, 0)).toThrow(TypeError);
    expect(() => addon.writeAt(1, Buffer.from('x'), 0.5, 0)).toThrow(TypeError);
    expect(() => addon.writeAt(1, Buffer.from('x'), 0, -1)).toThrow(TypeError);
  });
});
