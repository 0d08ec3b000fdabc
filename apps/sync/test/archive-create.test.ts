import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { batchIoAddon } from '@coffer/batch-io';
import { AdaptiveIo } from '../src/archive/adaptive-io.js';
import { BufferPool } from '../src/archive/buffer-pool.js';
import { coalesce } from '../src/pipeline/coalesce.js';
import { createArchive, newReport, PIECE_BYTES } from '../src/archive/create.js';
import { EntryStream } from '../src/archive/entry-stream.js';
import { scanSource, type ArchiveEntry } from '../src/archive/scan.js';

async function entriesOf(archive: AsyncIterable<Buffer>): Promise<Map<string, { type: string; body: Buffer }>> {
  const x = extract();
  const out = new Map<string, { type: string; body: Buffer }>();
  const done = (async () => {
    for await (const entry of x) {
      const parts: Buffer[] = [];
      for await (const c of entry) parts.push(c as Buffer);
      out.set(entry.header.name, { type: entry.header.type!, body: Buffer.concat(parts) });
    }
  })();
  for await (const chunk of archive) if (!x.write(chunk)) await new Promise<void>((r) => x.once('drain', () => r()));
  x.end(Buffer.alloc(0));
  await done;
  return out;
}

const folder = () => mkdtempSync(join(tmpdir(), 'coffer-archive-'));

/** The entries a scan of `root` finds, all of them before any is archived. */
async function scanned(root: string, io: AdaptiveIo, batchIo: typeof batchIoAddon): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  const ignore = () => {};
  await scanSource(root, [], { entry: (e) => void entries.push(e), skipped: ignore, vanished: ignore, unreadable: ignore }, io, batchIo);
  return entries;
}

// Every way of reading small files: in batches (the addon), and one at a time where it is not
// built, blocking (from the page cache) or on the thread pool (what a cold cache switches to).
describe.each([
  ['batched reads', batchIoAddon, () => new AdaptiveIo(true)],
  ['blocking reads', null, () => new AdaptiveIo(true)],
  ['thread-pool reads', null, () => new AdaptiveIo(false)],
])('createArchive, %s', (mode, batchIo, io) => {
  it('runs the way it is named', () => {
    expect(batchIo !== null || mode !== 'batched reads', 'the batched reader is not built: run pnpm build').toBe(true);
  });

  it('keeps order and content across many small files and a few large ones (read-ahead), with read buffers reused at once', async () => {
    const root = folder();
    const expected = new Map<string, Buffer>();
    for (let d = 0; d < 5; d++) {
      mkdirSync(join(root, `d${d}`));
      for (let f = 0; f < 200; f++) {
        const body = randomBytes((f * 977) % 5000);
        writeFileSync(join(root, `d${d}`, `f${f}`), body);
        expected.set(`d${d}/f${f}`, body);
      }
      const big = randomBytes(3 * 1024 * 1024 + d);
      writeFileSync(join(root, `d${d}`, 'big'), big);
      expected.set(`d${d}/big`, big);
    }
    const order = (await scanned(root, io(), batchIo)).map((e) => e.rel);
    const report = newReport();
    // As in a backup: large files are read into pooled pieces, small ones packed into pooled
    // pieces, some of them then coalesced into others. Each pooled buffer goes back as soon as it
    // is read here and is overwritten at once: nothing upstream may touch a buffer again after
    // handing it on.
    let takes = 0;
    const distinct = new Set<Buffer>();
    const pool = new (class extends BufferPool {
      override release(chunk: Uint8Array): boolean {
        const ours = super.release(chunk);
        if (ours) new Uint8Array(chunk.buffer).fill(0xee);
        return ours;
      }
      override take(): Buffer {
        const buffer = super.take();
        takes += 1;
        distinct.add(buffer);
        return buffer;
      }
    })(PIECE_BYTES, 4);
    const archive = createArchive(EntryStream.scan(root, [], report, io(), batchIo), report, { pool, batchIo, io: io() });
    const copied = (async function* () {
      for await (const chunk of coalesce(archive, pool, (c) => pool.release(c))) {
        yield Buffer.from(chunk);
        pool.release(chunk);
      }
    })();
    const got = await entriesOf(copied);
    expect([...got.keys()]).toEqual(order);
    expect(report.bytes).toBe([...expected.values()].reduce((n, b) => n + b.length, 0));
    for (const [name, body] of expected) expect(got.get(name)!.body.equals(body), name).toBe(true);
    expect(report).toMatchObject({ files: expected.size, changed: [], vanished: [], unreadable: [] });
    // 15 MiB of large files and ~2.5 MiB of small ones went through a handful of buffers: at most
    // the runs read ahead (8 MiB of them, and the one that crossed that line), four pieces of a
    // large file and one being coalesced.
    expect(takes).toBeGreaterThanOrEqual(17);
    expect(distinct.size).toBeLessThanOrEqual(14);
    rmSync(root, { recursive: true });
  });

  it('closes every file it opened ahead when stopped early', async () => {
    const root = folder();
    for (let f = 0; f < 8; f++) writeFileSync(join(root, `big${f}`), Buffer.alloc((2 << 20) + f));
    const entries = EntryStream.of(await scanned(root, io(), batchIo), newReport());
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    const archive = createArchive(entries, newReport(), { batchIo, io: io() });
    await archive.next(); // the first header: every large file is open by now
    expect(openFiles()).toBeGreaterThan(before);
    await archive.return(undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(openFiles()).toBe(before);
    rmSync(root, { recursive: true });
  });

  it('reports files that vanish, shrink, grow or stop being files after the scan, and never follows a swapped-in symlink', async () => {
    const root = folder();
    writeFileSync(join(root, 'gone'), 'x');
    writeFileSync(join(root, 'shrinks'), Buffer.alloc(1000, 7));
    writeFileSync(join(root, 'grows'), Buffer.alloc(1000, 8));
    writeFileSync(join(root, 'big-shrinks'), Buffer.alloc(3 << 20, 9));
    writeFileSync(join(root, 'now-a-link'), 'y');
    writeFileSync(join(root, 'now-a-folder'), 'z');
    writeFileSync(join(root, 'secret-outside'), 'do not follow');
    const entries = await scanned(root, io(), batchIo);
    rmSync(join(root, 'gone'));
    truncateSync(join(root, 'shrinks'), 10);
    appendFileSync(join(root, 'grows'), 'more');
    truncateSync(join(root, 'big-shrinks'), 3 << 19); // a short read in the middle of a piece
    rmSync(join(root, 'now-a-link'));
    symlinkSync(join(root, 'secret-outside'), join(root, 'now-a-link'));
    rmSync(join(root, 'now-a-folder'));
    mkdirSync(join(root, 'now-a-folder'));
    // One at a time, a FIFO would block the open; batched, it is no file any more.
    if (batchIo) execFileSync('mkfifo', [join(root, 'gone')]);
    const report = newReport();
    const got = await entriesOf(createArchive(EntryStream.of(entries, report), report, { batchIo, io: io() }));
    expect(report.vanished.sort()).toEqual(['gone', 'now-a-link']);
    expect(report.unreadable).toEqual(['now-a-folder (EISDIR)']);
    expect(report.changed.sort()).toEqual(['big-shrinks', 'grows', 'shrinks']);
    // Sizes are the scanned ones: a shrunk file is zero-filled, a grown one cut at the scanned size.
    expect(got.get('shrinks')!.body.equals(Buffer.concat([Buffer.alloc(10, 7), Buffer.alloc(990)]))).toBe(true);
    expect(got.get('grows')!.body.equals(Buffer.alloc(1000, 8))).toBe(true);
    expect(got.get('big-shrinks')!.body.equals(Buffer.concat([Buffer.alloc(3 << 19, 9), Buffer.alloc(3 << 19)]))).toBe(true);
    expect(got.has('now-a-link')).toBe(false);
    expect(got.get('secret-outside')!.body.toString()).toBe('do not follow');
    rmSync(root, { recursive: true });
  });

  it('reads nothing through a folder swapped for a symlink to elsewhere after the scan: small file, large file or link', async () => {
    const [root, elsewhere] = [folder(), folder()];
    mkdirSync(join(root, 'album'));
    for (const dir of [join(root, 'album'), elsewhere]) {
      writeFileSync(join(dir, 'small.jpg'), dir === elsewhere ? 'outside' : 'inside');
      writeFileSync(join(dir, 'large.mp4'), Buffer.alloc(3 << 20, dir === elsewhere ? 0x0e : 0x11));
      symlinkSync(dir === elsewhere ? '/outside/target' : 'small.jpg', join(dir, 'cover.jpg'));
    }
    const entries = await scanned(root, io(), batchIo);
    rmSync(join(root, 'album'), { recursive: true });
    symlinkSync(elsewhere, join(root, 'album'));
    const report = newReport();
    const got = await entriesOf(createArchive(EntryStream.of(entries, report), report, { batchIo, io: io() }));
    expect(report.vanished.sort()).toEqual(['album/cover.jpg', 'album/large.mp4', 'album/small.jpg']);
    expect([...got].map(([name, { type }]) => [name, type])).toEqual([['album', 'directory']]);
    rmSync(root, { recursive: true });
    rmSync(elsewhere, { recursive: true });
  });
});
