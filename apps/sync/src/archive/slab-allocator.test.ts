import { describe, expect, it } from 'vitest';
import { coalesce } from '../pipeline/coalesce.js';
import { BufferPool } from './buffer-pool.js';
import { SlabAllocator } from './slab-allocator.js';

/** A pool that overwrites whatever comes back at once, as a reader reusing it would. */
class PoisoningPool extends BufferPool {
  override release(chunk: Uint8Array): boolean {
    const ours = super.release(chunk);
    if (ours) chunk.fill(0xee);
    return ours;
  }
}

describe('SlabAllocator', () => {
  it('recycles a slab only once it is retired and every slice is freed', () => {
    const pool = new PoisoningPool(1000, 4);
    const slabs = new SlabAllocator(pool);
    const a = slabs.alloc(600).fill(1);
    const b = slabs.alloc(300).fill(2); // same slab
    const c = slabs.alloc(500).fill(3); // does not fit: a new slab, the first is retired
    expect(a.buffer).toBe(b.buffer);
    expect(c.buffer).not.toBe(a.buffer);
    slabs.free(a);
    expect(b.every((x) => x === 2)).toBe(true); // b still lives: nothing recycled
    slabs.free(b);
    expect(a.every((x) => x === 0xee)).toBe(true); // now it is
    slabs.free(c); // the current slab: kept, not recycled
    expect(c.every((x) => x === 3)).toBe(true);
    slabs.free(new Uint8Array(10)); // not a slice: ignored
    expect(() => slabs.alloc(1001)).toThrow(RangeError);
  });

  it('with coalesce, in the order a backup uses them: every byte arrives intact though freed slabs are overwritten at once', async () => {
    const pool = new PoisoningPool(64 << 10, 4);
    const slabs = new SlabAllocator(pool);
    const sizes = Array.from({ length: 600 }, (_, i) => 1 + ((i * 7919) % 9000));
    const expected = Buffer.concat(sizes.map((n, i) => Buffer.alloc(n, i % 251)));
    // Files are read ahead of the one being archived, as createArchive does.
    const source = (async function* () {
      const ahead: Buffer[] = [];
      for (const [i, n] of sizes.entries()) {
        ahead.push(slabs.alloc(n).fill(i % 251));
        if (ahead.length > 20) yield ahead.shift()!;
      }
      yield* ahead;
    })();
    const out: Buffer[] = [];
    let recycled = 0;
    for await (const piece of coalesce(source, pool, (c) => slabs.free(c))) {
      out.push(Buffer.from(piece));
      if (pool.release(piece)) recycled += 1;
    }
    expect(Buffer.concat(out).equals(expected)).toBe(true);
    expect(recycled).toBeGreaterThan(40);
  });
});
