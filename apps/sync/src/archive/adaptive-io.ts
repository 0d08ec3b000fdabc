/** Blocking calls averaging more than this (over at least 64), or one this slow, waited for a disk. */
const SLOW_AVERAGE_MS = 0.05;
const SLOW_CALL_MS = 10;

/**
 * Runs file-system calls blocking while they are served from memory, and through the thread pool
 * once they are not. From the page cache a blocking lstat, open or small read takes a few µs,
 * where a thread-pool round trip costs this thread ~10 µs: for a tree of many small files, most
 * of the time. But on a cold cache only calls in parallel keep a disk busy, so as soon as blocking
 * calls turn out slow, every later one goes to the thread pool.
 */
export class AdaptiveIo {
  private calls = 0;
  private spent = 0;

  /** `blocking: false` always uses the thread pool (tests use it to cover both paths). */
  constructor(private blocking = true) {}

  /** From now on, the thread pool only: for very many files, blocking calls make garbage faster than V8 collects it. */
  preferPool(): void {
    this.blocking = false;
  }

  run<T>(blocking: () => T, pooled: () => Promise<T>): T | Promise<T> {
    if (!this.blocking) return pooled();
    const started = performance.now();
    try {
      return blocking();
    } finally {
      const took = performance.now() - started;
      this.calls += 1;
      this.spent += took;
      if (took > SLOW_CALL_MS || (this.calls >= 64 && this.spent / this.calls > SLOW_AVERAGE_MS)) this.blocking = false;
    }
  }
}
