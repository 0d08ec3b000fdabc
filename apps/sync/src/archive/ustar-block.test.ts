import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tarHeaders } from './tar-headers.js';
import type { TarHeader } from './tar-layout.js';
import { BLOCK, fitsOneBlock, readBlock, writeBlock } from './ustar-block.js';

/** A seeded generator (mulberry32), so that a failure comes back the same. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** What the codec makes of a block: its header, null for a zero block, or the error it throws. */
function codec(block: Buffer): unknown {
  try {
    return tarHeaders.decode(block, 'utf-8', false);
  } catch (err) {
    return err;
  }
}

function randomHeaders(random: () => number, count: number): TarHeader[] {
  const chars = 'abcxyzABCXYZ0189 ._-~!#()[]{}@+=,;/';
  const text = (max: number) => Array.from({ length: 1 + Math.floor(random() * max) }, () => chars[Math.floor(random() * chars.length)]).join('');
  return Array.from({ length: count }, (): TarHeader => {
    const type = (['file', 'directory', 'symlink'] as const)[Math.floor(random() * 3)]!;
    return {
      name: text(100),
      type,
      mode: Math.floor(random() * 0o10000),
      mtimeMs: random() * 2.1e12, // up to 2036: later ones wrap as the codec stores them, and are left to it
      ...(type === 'file' ? { size: Math.floor(random() ** 4 * 8 ** 11) } : {}),
      ...(type === 'symlink' ? { linkname: text(100) } : {}),
    };
  });
}

describe('plain ustar blocks', () => {
  it('read back as the codec reads them', () => {
    for (const header of randomHeaders(seeded(1), 3000)) {
      expect(fitsOneBlock(header)).toBe(true);
      const block = Buffer.alloc(BLOCK);
      writeBlock(block, 0, header);
      const ours = readBlock(block);
      expect(ours).toBeDefined();
      expect(ours).toEqual(codec(block));
    }
  });

  it('are written in place, at any offset, whatever the buffer held before', () => {
    for (const header of randomHeaders(seeded(3), 200)) {
      const target = Buffer.alloc(4096, 0xaa);
      writeBlock(target, 7, header);
      const alone = Buffer.alloc(BLOCK);
      writeBlock(alone, 0, header);
      expect(target.subarray(7, 7 + BLOCK).equals(alone)).toBe(true);
      expect([target[6], target[7 + BLOCK]]).toEqual([0xaa, 0xaa]);
      expect(alone.equals(tarHeaders.encode({ ...header, mtime: new Date(header.mtimeMs), size: header.size ?? 0, uid: 0, gid: 0 })!)).toBe(true);
    }
  });

  it('are read only where the codec would read them the same, however a block is damaged', () => {
    const random = seeded(2);
    let read = 0;
    let refused = 0;
    for (const header of randomHeaders(random, 3000)) {
      const block = Buffer.alloc(BLOCK);
      writeBlock(block, 0, header);
      // One to three bytes changed anywhere, to anything; half the time the checksum then fixed.
      for (let n = 1 + Math.floor(random() * 3); n > 0; n--) block[Math.floor(random() * BLOCK)] = Math.floor(random() * 256);
      if (random() < 0.5) {
        let sum = 8 * 0x20;
        for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += block[i]!;
        block.write(`${sum.toString(8).padStart(6, '0')} \0`, 148, 'latin1');
      }
      const ours = readBlock(block);
      if (ours === undefined) refused++;
      else {
        read++;
        expect(ours).toEqual(codec(block));
      }
    }
    expect(read).toBeGreaterThan(300); // both ways were taken
    expect(refused).toBeGreaterThan(300);
  });

  it('leave headers to the codec that it writes as more than one block, or differently', () => {
    const base: TarHeader = { name: 'a', type: 'file', mode: 0o644, mtimeMs: 1.7e12, size: 1 };
    expect(fitsOneBlock(base)).toBe(true);
    for (const header of [
      { ...base, name: 'n'.repeat(101) },
      { ...base, name: 'naïve' },
      { ...base, type: 'symlink', linkname: 'l'.repeat(101) },
      { ...base, type: 'symlink', linkname: 'ünï' },
      { ...base, size: 8 ** 11 },
      { ...base, mtimeMs: -1000 },
      { ...base, mtimeMs: 2 ** 31 * 1000 },
    ] satisfies TarHeader[])
      expect(fitsOneBlock(header), JSON.stringify(header)).toBe(false);
  });

  it("leave GNU tar's blocks to the codec, or read them as it does", () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-ustar-'));
    mkdirSync(join(dir, 'src', 'folder'), { recursive: true });
    writeFileSync(join(dir, 'src', 'folder', 'file.txt'), 'x');
    symlinkSync('folder/file.txt', join(dir, 'src', 'link'));
    for (const format of ['gnu', 'posix', 'ustar', 'v7']) {
      const archive = execFileSync('tar', ['-C', join(dir, 'src'), `--format=${format}`, '-cf', '-', '.']);
      for (let at = 0; at + BLOCK <= archive.length; at += BLOCK) {
        const block = archive.subarray(at, at + BLOCK);
        const ours = readBlock(block);
        if (ours !== undefined) expect(ours).toEqual(codec(block));
      }
    }
    rmSync(dir, { recursive: true });
  });
});
