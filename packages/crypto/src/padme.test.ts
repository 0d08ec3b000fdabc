import { describe, expect, it } from 'vitest';
import { padme } from './padme.js';

describe('Padmé', () => {
  it('matches the paper’s definition and bounds the overhead', () => {
    // Worked by hand from the paper: 100 → E=6, S=3, clear 3 low bits → 104; 1000 → E=9, S=4, clear 5 → 1024.
    expect([0, 1, 2, 3, 100, 1000].map(padme)).toEqual([0, 1, 2, 3, 104, 1024]);
    for (const n of [5_000, 123_456, 10_000_000, 2 ** 31 + 12_345, 1e12]) {
      const p = padme(n);
      expect(p).toBeGreaterThanOrEqual(n);
      expect((p - n) / n).toBeLessThan(0.12);
      // The padded length keeps only a few significant bits: it leaks little of n.
      const e = Math.floor(Math.log2(n));
      const kept = Math.floor(Math.log2(e)) + 1;
      expect(p % 2 ** (e - kept)).toBe(0);
    }
  });
});
