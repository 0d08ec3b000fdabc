import { describe, expect, it } from 'vitest';
import { BoundedMap } from './bounded-map.js';

describe('BoundedMap', () => {
  it('expires entries after the TTL and takes each once', () => {
    const m = new BoundedMap<number>(100, 10);
    m.set('a', 1, 0);
    expect(m.get('a', 100)).toBe(1);
    expect(m.get('a', 101)).toBeUndefined();
    m.set('b', 2, 0);
    expect(m.take('b', 1)).toBe(2);
    expect(m.take('b', 1)).toBeUndefined();
  });

  it('never holds more than its bound: a flood forgets the oldest', () => {
    const m = new BoundedMap<number>(60_000, 100);
    for (let i = 0; i < 10_000; i++) m.set(`k${i}`, i, i);
    expect(m.size).toBe(100);
    expect(m.get('k0', 10_000)).toBeUndefined();
    expect(m.get('k9999', 10_000)).toBe(9999);
  });
});
