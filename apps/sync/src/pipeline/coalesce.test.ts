import { describe, expect, it } from 'vitest';
import { BufferPool } from '../archive/buffer-pool.js';
import { coalesce } from './coalesce.js';

const MiB = 1 << 20;

async function collect(chunks: Uint8Array[], pool = new BufferPool(MiB, 4)): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const source = (async function* () {
    yield* chunks;
  })();
  for await (const piece of coalesce(source, pool)) out.push(Buffer.from(piece));
  return out;
}

describe('coalesce', () => {
  it('joins small chunks into full pooled pieces and passes large ones through as the same buffers, in order', async () => {
    const small = Array.from({ length: 40 }, (_, i) => Buffer.alloc(30_000, i));
    const large = Buffer.alloc(MiB, 0xee);
    const header = Buffer.alloc(512, 0xaa);
    const input = [...small, header, large, header, Buffer.alloc(0)];
    const pool = new BufferPool(MiB, 4);
    const pieces: Uint8Array[] = [];
    const copies: Buffer[] = [];
    for await (const piece of coalesce((async function* () { yield* input; })(), pool)) {
      pieces.push(piece);
      copies.push(Buffer.from(piece));
    }
    expect(Buffer.concat(copies).equals(Buffer.concat(input))).toBe(true);
    expect(copies.map((p) => p.length)).toEqual([MiB, 40 * 30_000 + 512 - MiB, MiB, 512]);
    expect(pieces[2]).toBe(large); // no copy
    expect(pool.release(pieces[0]!)).toBe(true); // a whole pooled buffer, which the pool takes back
  });

  it('keeps every byte when pieces are released and overwritten as soon as they are handed on', async () => {
    const pool = new (class extends BufferPool {
      override release(chunk: Uint8Array): boolean {
        const ours = super.release(chunk);
        if (ours) chunk.fill(0x55);
        return ours;
      }
    })(MiB, 2);
    const input = Array.from({ length: 200 }, (_, i) => Buffer.alloc(10_000 + i * 97, i));
    const copies: Buffer[] = [];
    for await (const piece of coalesce((async function* () { yield* input; })(), pool)) {
      copies.push(Buffer.from(piece));
      pool.release(piece);
    }
    expect(Buffer.concat(copies).equals(Buffer.concat(input))).toBe(true);
  });

  it('yields nothing for nothing', async () => {
    expect(await collect([])).toEqual([]);
  });
});
