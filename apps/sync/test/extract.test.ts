import { PassThrough, Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack } from 'tar-stream';
import { t as tarList } from 'tar';
import { describe, expect, it } from 'vitest';
import { untilTarEnd } from '../src/archive/extract.js';

async function tarOf(files: Record<string, Buffer>): Promise<Buffer> {
  const p = pack();
  for (const [name, body] of Object.entries(files)) p.entry({ name, size: body.length }, body);
  p.finalize();
  const parts: Buffer[] = [];
  for await (const c of p) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('untilTarEnd', () => {
  it('stops feeding the tar parser at the end-of-archive marker but reads the padding to the end', async () => {
    const files = { 'a.txt': Buffer.alloc(300_000, 1), 'b/c.bin': Buffer.alloc(1_500_000, 2) };
    const archive = await tarOf(files);
    const padded = Buffer.concat([archive, Buffer.alloc(16 << 20)]);
    const chunks = Array.from({ length: Math.ceil(padded.length / 65536) }, (_, i) => padded.subarray(i * 65536, (i + 1) * 65536));
    let read = 0;
    const source = Readable.from((function* () {
      for (const c of chunks) {
        read += c.length;
        yield c;
      }
    })());
    const seen: Array<[string, number]> = [];
    const parser = tarList({ strict: true, onReadEntry: (e) => void seen.push([e.path, e.size]) }) as unknown as Writable;
    let passed = 0;
    const stage = untilTarEnd(parser);
    const counted = async function* (src: AsyncIterable<Buffer>) {
      for await (const c of stage(src)) {
        passed += c.length;
        yield c;
      }
    };
    await pipeline(source, counted, new PassThrough({ highWaterMark: 1 << 20 }), parser);
    expect(seen).toEqual([['a.txt', 300_000], ['b/c.bin', 1_500_000]]);
    expect(read).toBe(padded.length);
    // At most what was in flight when the marker was seen reaches the parser, not the 16 MiB.
    expect(passed).toBeGreaterThanOrEqual(archive.length);
    expect(passed).toBeLessThan(archive.length + (3 << 20));
  });
});
