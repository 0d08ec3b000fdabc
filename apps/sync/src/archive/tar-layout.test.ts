import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { tarHeaders } from './tar-headers.js';
import { END_OF_ARCHIVE, padding, tarHeader, type TarHeader } from './tar-layout.js';

const mtimeMs = Date.parse('2025-01-02T03:04:05.678Z') + 0.25; // fractions of a ms, as lstat gives them
const entries: Array<TarHeader & { body?: Buffer }> = [
  { name: 'plain.txt', type: 'file', mode: 0o640, mtimeMs, size: 5, body: Buffer.from('hello') },
  { name: 'empty', type: 'file', mode: 0o600, mtimeMs, size: 0, body: Buffer.alloc(0) },
  { name: 'whole-block', type: 'file', mode: 0o644, mtimeMs, size: 1024, body: Buffer.alloc(1024, 1) },
  { name: 'locked', type: 'file', mode: 0, mtimeMs, size: 1, body: Buffer.from('x') },
  { name: 'folder', type: 'directory', mode: 0o755, mtimeMs },
  { name: 'link', type: 'symlink', mode: 0o777, mtimeMs, linkname: 'plain.txt' },
  { name: `${'deep/'.repeat(30)}file`, type: 'file', mode: 0o644, mtimeMs, size: 3, body: Buffer.from('abc') }, // ustar prefix
  { name: 'x'.repeat(150), type: 'file', mode: 0o644, mtimeMs, size: 2, body: Buffer.from('hi') }, // pax path
  { name: 'Fotos/Größe 😀.jpg', type: 'file', mode: 0o644, mtimeMs, size: 600, body: Buffer.alloc(600, 2) }, // pax: not ASCII
  { name: 'far', type: 'symlink', mode: 0o777, mtimeMs, linkname: `${'../'.repeat(40)}target` }, // pax linkpath
  { name: 'n'.repeat(100), type: 'symlink', mode: 0o777, mtimeMs, linkname: 'l'.repeat(100) }, // both at their limit
  { name: 'link to ünïcødé', type: 'symlink', mode: 0o777, mtimeMs, linkname: 'ünïcødé' },
  { name: 'setuid', type: 'file', mode: 0o104755, mtimeMs, size: 1, body: Buffer.from('s') }, // type bits dropped
  { name: 'before 1970', type: 'file', mode: 0o644, mtimeMs: -86_400_500.5, size: 1, body: Buffer.from('o') },
  { name: 'epoch', type: 'directory', mode: 0o700, mtimeMs: 0 },
  { name: 'after 2038', type: 'file', mode: 0o644, mtimeMs: 2 ** 31 * 1000 + 5, size: 1, body: Buffer.from('f') },
];

async function packed(items: typeof entries): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const reading = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  for (const { body, mtimeMs: ms, ...rest } of items) {
    const header = { ...rest, mtime: new Date(ms) };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body) p.entry(header, body, done);
      else p.entry(header, done);
    });
  }
  p.finalize();
  await reading;
  return Buffer.concat(chunks);
}

describe('tar layout', () => {
  it("is byte for byte what tar-stream's Pack writes, pax headers and padding included", async () => {
    const ours = Buffer.concat([
      ...entries.flatMap(({ body, ...header }) => [...tarHeader(header), ...(body ? [body, ...padding(body.length)] : [])]),
      END_OF_ARCHIVE,
    ]);
    const theirs = await packed(entries);
    expect(ours.length).toBe(theirs.length);
    expect(ours.equals(theirs)).toBe(true);
  });

  it("is what Pack writes for thousands of random names, links, modes, sizes and times", async () => {
    // A seeded generator (mulberry32), so that a failure comes back the same.
    let seed = 0x2f6b1d;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const chars = [...'abcxyzABCXYZ0189 ._-~!#()[]{}@+=,;\'$&', '/', '/', 'é', 'ß', '😀', '\u007f'];
    const text = (max: number) => Array.from({ length: 1 + Math.floor(random() * max) }, () => (random() < 0.97 ? pick(chars.slice(0, -4)) : pick(chars))).join('');
    const items: typeof entries = Array.from({ length: 3000 }, () => {
      const type = pick(['file', 'file', 'directory', 'symlink'] as const);
      const size = Math.floor(random() * 1500);
      return {
        name: text(random() < 0.8 ? 100 : 180),
        type,
        mode: pick([0, 0o644, 0o755, Math.floor(random() * 0o200000)]),
        mtimeMs: pick([0, 1.7e12, (random() - 0.2) * 5e12]) + pick([0, 0.5, 0.999]),
        ...(type === 'file' ? { size, body: Buffer.alloc(size, 7) } : {}),
        ...(type === 'symlink' ? { linkname: random() < 0.1 ? '' : text(random() < 0.8 ? 100 : 130) } : {}),
      };
    });
    const ours = Buffer.concat(items.flatMap(({ body, ...header }) => [...tarHeader(header), ...(body ? [body, ...padding(body.length)] : [])]));
    const theirs = await packed(items);
    expect(ours.equals(theirs.subarray(0, theirs.length - END_OF_ARCHIVE.length))).toBe(true);
  });

  it('gives sizes past 11 octal digits as tar-stream encodes them', () => {
    for (const size of [8 ** 11 - 1, 8 ** 11, 2 ** 40 + 3]) {
      const header: TarHeader = { name: 'huge.img', type: 'file', mode: 0o600, mtimeMs: 1.7e12, size };
      const theirs = tarHeaders.encode({ ...header, mtime: new Date(header.mtimeMs), uid: 0, gid: 0 })!;
      expect(Buffer.concat(tarHeader(header)).equals(theirs), String(size)).toBe(true);
    }
  });

  it('pads to whole 512-byte blocks', () => {
    expect(padding(0)).toEqual([]);
    expect(padding(512)).toEqual([]);
    expect(padding(1)[0]!.length).toBe(511);
    expect(padding(1025)[0]!.equals(Buffer.alloc(511))).toBe(true);
  });
});
