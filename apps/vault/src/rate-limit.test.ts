import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('limits each key per window', () => {
    const r = new RateLimiter(2, 60_000);
    expect([r.take('a', 0), r.take('a', 1), r.take('a', 2)]).toEqual([0, 0, 60]);
    expect(r.take('b', 3)).toBe(0);
    expect(r.take('a', 60_000)).toBe(0); // a new window
  });

  it('a spray of new keys fills the table without resetting the limits of keys in use, and memory stays bounded', () => {
    const r = new RateLimiter(3, 60_000, 1000);
    for (let i = 0; i < 4; i++) r.take('victim-of-flood', i);
    expect(r.take('attacker', 10)).toBe(0);
    for (let i = 0; i < 3; i++) r.take('attacker', 10);
    expect(r.take('attacker', 11)).toBeGreaterThan(0);
    // Far more distinct keys than the table holds; the attacker keeps using its own key.
    for (let i = 0; i < 100_000; i++) {
      r.take(`spray-${i}`, 20);
      if (i % 100 === 0) {
        expect(r.take('attacker', 20)).toBeGreaterThan(0);
        expect(r.size).toBeLessThanOrEqual(1000);
      }
    }
    expect(r.take('attacker', 30)).toBeGreaterThan(0); // still limited: its window survived
  });

  it('when full, forgets only the least recently used key', () => {
    const r = new RateLimiter(1, 60_000, 3);
    r.take('old', 0);
    r.take('b', 1);
    r.take('c', 2);
    expect(r.take('b', 3)).toBeGreaterThan(0);
    r.take('new', 4); // evicts "old", the least recently used
    expect(r.size).toBe(3);
    expect(r.take('old', 5)).toBe(0); // forgotten: a fresh window
    expect(r.take('b', 6)).toBeGreaterThan(0); // b, used recently, keeps its window
  });
});
