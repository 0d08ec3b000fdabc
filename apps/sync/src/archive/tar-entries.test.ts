import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { tarEntries } from './tar-entries.js';
import { tarHeaders } from './tar-headers.js';

const root = mkdtempSync(join(tmpdir(), 'coffer-tar-entries-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const tree = join(root, 'tree');
const long = 'a-rather-long-folder-name-that-goes-on/'.repeat(4) + 'and-a-file-name-past-one-hundred-bytes.txt';
mkdirSync(join(tree, long, '..'), { recursive: true });
writeFileSync(join(tree, long), 'long name');
writeFileSync(join(tree, 'naïve café.txt'), 'non-ASCII name');
writeFileSync(join(tree, 'empty'), '');
writeFileSync(join(tree, 'big'), randomBytes(300_000 + 17));
writeFileSync(join(tree, 'block'), randomBytes(512));
symlinkSync(long, join(tree, 'link-with-a-long-target'));
mkdirSync(join(tree, 'empty-folder'));

type Seen = [string, string | null | undefined, number, string | null | undefined, number, number, string];
const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** What tar-stream's extract makes of `archive`: the reference. */
async function reference(archive: Buffer): Promise<Seen[]> {
  const x = extract();
  const seen: Seen[] = [];
  const reading = (async () => {
    for await (const entry of x) {
      const parts: Buffer[] = [];
      for await (const c of entry) parts.push(c as Buffer);
      const h = entry.header;
      seen.push([h.name, h.type, h.size, h.linkname, h.mode, h.mtime.getTime(), digest(Buffer.concat(parts))]);
    }
  })();
  x.end(archive);
  await reading;
  return seen;
}

/** The archive in pieces of these sizes, in turn, as a decrypting stream would hand it on. */
async function* inPieces(archive: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  for (let at = 0, i = 0; at < archive.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield archive.subarray(at, at + n);
    at += n;
  }
}

async function parsed(source: AsyncIterable<Buffer>, wholeBytes: number): Promise<Seen[]> {
  const seen: Seen[] = [];
  for await (const { header: h, data, pieces } of tarEntries(source, wholeBytes)) {
    let body = data;
    if (pieces) {
      const parts: Buffer[] = [];
      for await (const piece of pieces) parts.push(Buffer.from(piece));
      body = Buffer.concat(parts);
    }
    seen.push([h.name, h.type, h.size, h.linkname, h.mode, h.mtime.getTime(), digest(body!)]);
  }
  return seen;
}

const tarOf = (format: string) => execFileSync('tar', ['-C', tree, `--format=${format}`, '-cf', '-', '.']);

describe('tarEntries', () => {
  it.each(['pax', 'gnu', 'posix'])('reads what tar-stream’s extract reads (GNU tar, %s format), however the bytes arrive', async (format) => {
    // Padmé's zeros after the end-of-archive blocks, as in a backup.
    const archive = Buffer.concat([tarOf(format), Buffer.alloc(512 * 7)]);
    const expected = await reference(archive);
    expect(expected.map((e) => e[0])).toEqual(expect.arrayContaining([`./${long}`, './naïve café.txt', './link-with-a-long-target']));
    for (const sizes of [[archive.length], [1], [511, 513, 7], [65_536 + 16], [100_000, 3]]) {
      expect(await parsed(inPieces(archive, sizes), 1 << 20), String(sizes)).toEqual(expected);
      expect(await parsed(inPieces(archive, sizes), 100), `${sizes}, in pieces`).toEqual(expected);
    }
  });

  it('skips the content a consumer leaves unread', async () => {
    const archive = tarOf('pax');
    const names: string[] = [];
    for await (const { header, pieces } of tarEntries(inPieces(archive, [4096]), 0)) {
      names.push(header.name);
      if (pieces) for await (const piece of pieces) if (piece.length > 0) break; // one piece at most
    }
    expect(names).toEqual((await reference(archive)).map((e) => e[0]));
  });

  it('fails as extract fails: a cut archive, a damaged header, a pax record past 4 MiB', async () => {
    const archive = tarOf('pax');
    const cut = archive.subarray(0, 512 + 100);
    await expect(parsed(inPieces(cut, [1000]), 1 << 20)).rejects.toThrow('Unexpected end of data');
    await expect(parsed(inPieces(archive.subarray(0, 700), [64]), 0)).rejects.toThrow('Unexpected end of data');
    const damaged = Buffer.from(archive);
    damaged[0]! ^= 1; // the header checksum no longer matches
    await expect(parsed(inPieces(damaged, [4096]), 1 << 20)).rejects.toThrow(/Invalid tar header/);
    // A pax header that says its records take 5 MiB, then that many bytes.
    const headers = tarHeaders as { encode(h: object): Buffer };
    const huge = Buffer.concat([headers.encode({ name: 'PaxHeader', type: 'pax-header', size: 5 << 20, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }), Buffer.alloc(5 << 20)]);
    await expect(reference(huge)).rejects.toThrow('Header exceeds max size');
    await expect(parsed(inPieces(huge, [1 << 20]), 1 << 20)).rejects.toThrow('Header exceeds max size');
  });

  it('stops its source when stopped early', async () => {
    let stopped = false;
    const source = (async function* () {
      try {
        yield readFileSync(join(tree, 'block')).subarray(0, 0);
        yield* inPieces(tarOf('pax'), [512]);
      } finally {
        stopped = true;
      }
    })();
    for await (const entry of tarEntries(source, 1 << 20)) if (entry) break;
    expect(stopped).toBe(true);
  });
});
