import type { ArchiveReport } from './create.js';
import { scanSource, type ArchiveEntry, type ScanSink } from './scan.js';
import type { AdaptiveIo } from './adaptive-io.js';
import type { BatchIoAddon } from '@coffer/batch-io';

/** Entries scanned ahead of the archive at most; the scan waits below this, and goes on at half. */
const HIGH_WATER = 4096;
const LOW_WATER = HIGH_WATER / 2;

/** Thrown into the scan once the archive no longer wants entries; never reaches anyone. */
class ScanStopped extends Error {}

/**
 * The scan's entries on their way to the archive: a bounded queue, so that the archive starts at
 * once and memory stays the same for a million files as for ten (the whole tree, kept, cost a
 * 1,000,000-file backup ~150 MiB). The archive takes entries without waiting while some are
 * queued (`take`), and waits only when it has caught up with the scan (`ready`).
 */
export class EntryStream implements ScanSink {
  private queue: Array<ArchiveEntry | undefined> = [];
  private head = 0;
  private ended = false;
  private failure: unknown;
  private stopped = false;
  private wakeArchive?: () => void;
  private wakeScan?: () => void;

  /** Special files, and folders that vanished or cannot be listed, go to `report`. */
  constructor(private readonly report: ArchiveReport) {}

  /** An ended stream of `entries`, for an archive of entries scanned beforehand. */
  static of(entries: Iterable<ArchiveEntry>, report: ArchiveReport): EntryStream {
    const stream = new EntryStream(report);
    for (const entry of entries) stream.queue.push(entry);
    stream.end();
    return stream;
  }

  /** Scans `root` into a new stream; a scan that fails fails the stream (`take`, `ready`). */
  static scan(root: string, exclude: readonly string[], report: ArchiveReport, io?: AdaptiveIo, batchIo?: BatchIoAddon | null): EntryStream {
    const stream = new EntryStream(report);
    scanSource(root, exclude, stream, io, batchIo).then(
      () => stream.end(),
      (err) => stream.end(err),
    );
    return stream;
  }

  entry(entry: ArchiveEntry): void | Promise<void> {
    if (this.stopped) throw new ScanStopped();
    this.queue.push(entry);
    this.wake('archive');
    if (this.queue.length - this.head < HIGH_WATER) return;
    return new Promise<void>((resolve) => (this.wakeScan = resolve)).then(() => {
      if (this.stopped) throw new ScanStopped();
    });
  }

  skipped(rel: string): void {
    this.report.skipped.push(rel);
  }

  vanished(rel: string): void {
    this.report.vanished.push(`${rel}/`);
  }

  unreadable(rel: string, code: string): void {
    this.report.unreadable.push(`${rel}/ (${code})`);
  }

  /** The scan is over: every entry is queued, or it failed with `failure`. */
  end(failure?: unknown): void {
    if (failure instanceof ScanStopped) failure = undefined;
    this.ended = true;
    this.failure = failure;
    this.wake('archive');
  }

  /** The next entry, if one is queued; throws the scan's error once it failed. */
  take(): ArchiveEntry | undefined {
    if (this.failure !== undefined) throw this.failure;
    if (this.head === this.queue.length) return undefined;
    const entry = this.queue[this.head];
    this.queue[this.head++] = undefined; // the archive's from here on
    if (this.head >= LOW_WATER) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.queue.length - this.head <= LOW_WATER) this.wake('scan');
    return entry;
  }

  /** Whether every entry has been taken, and the scan is over. */
  get done(): boolean {
    return this.ended && this.failure === undefined && this.head === this.queue.length;
  }

  /** Resolves once an entry can be taken or the scan is over; rejects with its error. */
  ready(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended || this.head < this.queue.length) return Promise.resolve();
    return new Promise<void>((resolve) => (this.wakeArchive = resolve)).then(() => this.ready());
  }

  /** The archive wants no more entries: the scan stops at its next one. */
  stop(): void {
    this.stopped = true;
    this.wake('scan');
  }

  private wake(who: 'archive' | 'scan'): void {
    const wake = who === 'archive' ? this.wakeArchive : this.wakeScan;
    if (who === 'archive') this.wakeArchive = undefined;
    else this.wakeScan = undefined;
    wake?.();
  }
}
