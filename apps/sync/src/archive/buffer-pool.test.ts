import { describe, expect, it } from 'vitest';
import { BufferPool } from './buffer-pool.js';

describe('BufferPool', () => {
  it('takes back only what it issued (whole, or by any view of it), each once, and keeps at most `keep`', () => {
    const pool = new BufferPool(16, 1);
    const a = pool.take();
    const b = pool.take();
    expect(a).not.toBe(b);
    expect(a.length).toBe(16);
    expect(pool.release(Buffer.alloc(16))).toBe(false); // not issued here
    expect(pool.release(Buffer.from(a.subarray(0, 8)))).toBe(false); // a copy of one
    expect(pool.take()).not.toBe(a);
    expect(pool.release(a.subarray(4, 8))).toBe(true); // a view gives back the whole buffer
    expect(pool.release(a)).toBe(false); // twice
    expect(pool.release(b)).toBe(true); // but beyond `keep`: dropped
    expect(pool.take()).toBe(a);
    expect(pool.take()).not.toBe(b);
  });
});
