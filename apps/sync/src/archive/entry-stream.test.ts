import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newReport } from './create.js';
import { EntryStream } from './entry-stream.js';
import { ArchiveEntry } from './scan.js';

const file = (i: number) => new ArchiveEntry(`/src/f${i}`, `f${i}`, 'file', i, 0o644, 0);
const tick = () => new Promise((r) => setTimeout(r, 5));

const root = mkdtempSync(join(tmpdir(), 'coffer-entry-stream-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('EntryStream', () => {
  it('holds the scan back once 4,096 entries wait, and lets it go on at half that', async () => {
    const stream = new EntryStream(newReport());
    const pushed: number[] = [];
    // A scan as scanSource runs one: it waits whenever entry() returns a promise.
    const scan = (async () => {
      for (let i = 0; i < 10_000; i++) {
        const held = stream.entry(file(i));
        pushed.push(i);
        if (held) await held;
      }
      stream.end();
    })();
    await tick();
    expect(pushed.length).toBe(4096);
    for (let i = 0; i < 2047; i++) expect(stream.take()!.rel).toBe(`f${i}`);
    await tick();
    expect(pushed.length).toBe(4096); // 2,049 still wait
    expect(stream.take()!.rel).toBe('f2047');
    await tick();
    expect(pushed.length).toBe(4096 + 2048);
    let next = 2048;
    while (!stream.done) {
      const entry = stream.take();
      if (entry) expect(entry.rel).toBe(`f${next++}`);
      else await stream.ready();
    }
    await scan;
    expect(next).toBe(10_000);
  });

  it('wakes a waiting archive for the next entry, and for the end', async () => {
    const stream = new EntryStream(newReport());
    let woken = 0;
    void stream.ready().then(() => woken++);
    await tick();
    expect(woken).toBe(0);
    stream.entry(file(1));
    await tick();
    expect([woken, stream.take()?.rel, stream.done]).toEqual([1, 'f1', false]);
    void stream.ready().then(() => woken++);
    stream.end();
    await tick();
    expect([woken, stream.take(), stream.done]).toEqual([2, undefined, true]);
  });

  it('fails the archive with the scan’s error, even with entries still queued', async () => {
    const stream = new EntryStream(newReport());
    stream.entry(file(1));
    const failure = Object.assign(new Error('EIO: i/o error, lstat'), { code: 'EIO' });
    stream.end(failure);
    expect(() => stream.take()).toThrow(failure);
    await expect(stream.ready()).rejects.toBe(failure);
    expect(stream.done).toBe(false);
  });

  it('stops a scan the archive no longer wants, waiting or not', async () => {
    const stream = new EntryStream(newReport());
    let held: void | Promise<void> = undefined;
    for (let i = 0; !held; i++) held = stream.entry(file(i));
    stream.stop();
    const stopped = await (held as Promise<void>).then(() => null, (err: unknown) => err);
    expect(stopped).toBeInstanceOf(Error);
    expect(() => stream.entry(file(0))).toThrow();
    // What the scan then rejects with ends the stream, and is no failure of the source.
    stream.end(stopped);
    await expect(stream.ready()).resolves.toBeUndefined();
  });

  it('scans a folder into itself, and reports special files and folders left out', async () => {
    writeFileSync(join(root, 'a'), 'a');
    execFileSync('mkfifo', [join(root, 'fifo')]);
    const report = newReport();
    const stream = EntryStream.scan(root, [], report);
    await stream.ready();
    const rels: string[] = [];
    while (!stream.done) {
      const entry = stream.take();
      if (entry) rels.push(entry.rel);
      else await stream.ready();
    }
    expect(rels).toEqual(['a']);
    expect(report.skipped).toEqual(['fifo']);
  });

  it('reports folders left out as folders, with the reason one cannot be read', () => {
    const report = newReport();
    const stream = new EntryStream(report);
    stream.vanished('Media/gone');
    stream.unreadable('Media/locked', 'EACCES');
    expect([report.vanished, report.unreadable]).toEqual([['Media/gone/'], ['Media/locked/ (EACCES)']]);
  });

  it('fails when the source folder cannot be listed', async () => {
    const stream = EntryStream.scan(join(root, 'missing'), [], newReport());
    await expect(stream.ready()).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
