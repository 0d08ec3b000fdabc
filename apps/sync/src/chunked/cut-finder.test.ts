import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { gearTable } from '@coffer/crypto';
import { CutFinder, DEFAULT_CHUNKER, type ChunkerParams } from './cut-finder.js';

const gear = gearTable(new Uint8Array(32).fill(1));
const small: ChunkerParams = { min: 2 * 1024, avg: 8 * 1024, max: 32 * 1024 };

/** Chunk lengths of `data` fed in pieces of the given sizes (cycled). */
function chunkLengths(data: Uint8Array, params: ChunkerParams, pieces: readonly number[] = [data.length], table = gear): number[] {
  const finder = new CutFinder(table, params);
  const lengths: number[] = [];
  let chunkStart = 0;
  let offset = 0;
  for (let p = 0; offset < data.length; p++) {
    const piece = data.subarray(offset, offset + pieces[p % pieces.length]!);
    let at = 0;
    for (;;) {
      const cut = finder.next(piece, at);
      if (cut === -1) break;
      lengths.push(offset + cut - chunkStart);
      chunkStart = offset + cut;
      at = cut;
    }
    offset += piece.length;
  }
  if (chunkStart < data.length) lengths.push(data.length - chunkStart);
  return lengths;
}

const ends = (lengths: number[]) => new Set(lengths.map((_, i) => lengths.slice(0, i + 1).reduce((a, b) => a + b, 0)));

/** The rule of SPEC §9 byte by byte, as plainly as it can be written: the model the fast loops must equal. */
function referenceLengths(data: Uint8Array, p: ChunkerParams, table = gear): number[] {
  const maskOf = (bits: number) => (0xffffffff << (32 - bits)) | 0;
  const lengths: number[] = [];
  let hash = 0;
  let size = 0;
  for (const byte of data) {
    hash = ((hash << 1) + table[byte]!) | 0;
    size++;
    const mask = size < p.avg ? maskOf(Math.log2(p.avg) + 2) : maskOf(Math.log2(p.avg) - 2);
    if ((size >= p.min && (hash & mask) === 0) || size >= p.max) {
      lengths.push(size);
      hash = 0;
      size = 0;
    }
  }
  if (size > 0) lengths.push(size);
  return lengths;
}

describe('CutFinder', () => {
  it('equals the byte-by-byte rule, for many parameters and piece sizes', () => {
    const params: ChunkerParams[] = [small, { min: 1024, avg: 1024, max: 1024 }, { min: 32, avg: 1024, max: 1500 }, { min: 4096, avg: 4096, max: 65_536 }];
    const input = randomBytes(600_000);
    for (const p of params) {
      const want = referenceLengths(input, p);
      expect(chunkLengths(input, p)).toEqual(want);
      expect(chunkLengths(input, p, [1, 999, 70_000])).toEqual(want);
    }
  });

  const data = randomBytes(2 << 20);

  it('cuts the same wherever the stream is split', () => {
    const whole = chunkLengths(data, small);
    expect(whole.length).toBeGreaterThan(50);
    for (const pieces of [[1], [7, 4096], [65_536], [31, 1, 100_000]]) {
      expect(chunkLengths(data.subarray(0, 300_000), small, pieces)).toEqual(chunkLengths(data.subarray(0, 300_000), small));
    }
    expect(chunkLengths(data, small, [65_536, 13])).toEqual(whole);
  });

  it('keeps every chunk within min..max, and the average near avg', () => {
    const lengths = chunkLengths(data, small);
    for (const l of lengths.slice(0, -1)) {
      expect(l).toBeGreaterThanOrEqual(small.min);
      expect(l).toBeLessThanOrEqual(small.max);
    }
    const mean = data.length / lengths.length;
    expect(mean).toBeGreaterThan(small.avg * 0.7);
    expect(mean).toBeLessThan(small.avg * 1.4);
  });

  it('cuts at max in data without any cut point (zeros hash to a constant)', () => {
    const zeros = new Uint8Array(100 * 1024);
    const lengths = chunkLengths(zeros, small);
    // A constant run gives a constant hash: either it matches the mask at once or never.
    expect(lengths.every((l, i) => l === small.max || l === small.min || i === lengths.length - 1)).toBe(true);
  });

  it('an insertion near the start moves only the cuts around it (content-defined)', () => {
    const edited = Buffer.concat([data.subarray(0, 10_000), randomBytes(100), data.subarray(10_000)]);
    const before = [...ends(chunkLengths(data, small))].map((e) => e + 100);
    const after = ends(chunkLengths(edited, small));
    const kept = before.filter((e) => after.has(e)).length;
    expect(kept / before.length).toBeGreaterThan(0.95);
  });

  it('another gear key gives other cut points (the chunker is keyed)', () => {
    const other = gearTable(new Uint8Array(32).fill(2));
    const a = ends(chunkLengths(data, small));
    const b = [...ends(chunkLengths(data, small, [data.length], other))];
    expect(b.filter((e) => a.has(e)).length / b.length).toBeLessThan(0.1);
  });

  it('reset() forces a cut: the next chunk starts fresh', () => {
    const finder = new CutFinder(gear, small);
    expect(finder.next(data.subarray(0, 1000))).toBe(-1);
    expect(finder.pending).toBe(1000);
    finder.reset();
    const fresh = new CutFinder(gear, small);
    expect(finder.next(data, 0)).toBe(fresh.next(data, 0));
  });

  it('refuses parameters it cannot honour', () => {
    expect(() => new CutFinder(gear, { min: 1024, avg: 3000, max: 8192 })).toThrow(/power of two/);
    expect(() => new CutFinder(gear, { min: 16, avg: 4096, max: 8192 })).toThrow(/min/);
    expect(() => new CutFinder(gear, { min: 1024, avg: 4096, max: 2048 })).toThrow(/max/);
    expect(() => new CutFinder(new Uint32Array(10), DEFAULT_CHUNKER)).toThrow(/256 words/);
  });
});
