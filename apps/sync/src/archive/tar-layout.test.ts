import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { END_OF_ARCHIVE, padding, tarHeader, type TarHeader } from './tar-layout.js';

const mtime = new Date('2025-01-02T03:04:05.678Z');
const entries: Array<TarHeader & { body?: Buffer }> = [
  { name: 'plain.txt', type: 'file', mode: 0o640, mtime, size: 5, body: Buffer.from('hello') },
  { name: 'empty', type: 'file', mode: 0o600, mtime, size: 0, body: Buffer.alloc(0) },
  { name: 'whole-block', type: 'file', mode: 0o644, mtime, size: 1024, body: Buffer.alloc(1024, 1) },
  { name: 'locked', type: 'file', mode: 0, mtime, size: 1, body: Buffer.from('x') },
  { name: 'folder', type: 'directory', mode: 0o755, mtime },
  { name: 'link', type: 'symlink', mode: 0o777, mtime, linkname: 'plain.txt' },
  { name: `${'deep/'.repeat(30)}file`, type: 'file', mode: 0o644, mtime, size: 3, body: Buffer.from('abc') }, // ustar prefix
  { name: 'x'.repeat(150), type: 'file', mode: 0o644, mtime, size: 2, body: Buffer.from('hi') }, // pax path
  { name: 'Fotos/Größe 😀.jpg', type: 'file', mode: 0o644, mtime, size: 600, body: Buffer.alloc(600, 2) }, // pax: not ASCII
  { name: 'far', type: 'symlink', mode: 0o777, mtime, linkname: `${'../'.repeat(40)}target` }, // pax linkpath
];

async function packed(items: typeof entries): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const reading = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  for (const { body, ...header } of items) {
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

  it('pads to whole 512-byte blocks', () => {
    expect(padding(0)).toEqual([]);
    expect(padding(512)).toEqual([]);
    expect(padding(1)[0]!.length).toBe(511);
    expect(padding(1025)[0]!.equals(Buffer.alloc(511))).toBe(true);
  });
});
