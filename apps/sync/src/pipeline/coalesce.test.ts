import { describe, expect, it } from 'vitest';
import { coalesce } from './coalesce.js';

async function collect(chunks: Uint8Array[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const piece of coalesce((async function* () { yield* chunks; })())) out.push(piece);
  return out;
}

describe('coalesce', () => {
  it('joins small chunks into ~1 MiB pieces and passes large ones through as the same buffers, in order', async () => {
    const small = Array.from({ length: 40 }, (_, i) => Buffer.alloc(30_000, i));
    const large = Buffer.alloc(1 << 20, 0xee);
    const header = Buffer.alloc(512, 0xaa);
    const input = [...small, header, large, header, Buffer.alloc(0)];
    const out = await collect(input);
    expect(Buffer.concat(out).equals(Buffer.concat(input))).toBe(true);
    expect(out.map((p) => p.length)).toEqual([35 * 30_000, 5 * 30_000 + 512, 1 << 20, 512]);
    expect(out[2]).toBe(large); // no copy
  });

  it('yields nothing for nothing', async () => {
    expect(await collect([])).toEqual([]);
  });
});
