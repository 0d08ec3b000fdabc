/**
 * A fixed-window counter per key, in a table of at most `maxKeys` keys kept in least-recently-used
 * order. When full, only the least recently used key is forgotten: a spray of new keys cannot reset
 * the limits of the keys in use (clearing the whole table would reset everyone's at once).
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    readonly maxKeys = 100_000,
  ) {}

  /** Returns 0 if allowed, else the seconds to wait. */
  take(key: string, now = Date.now()): number {
    let w = this.windows.get(key);
    this.windows.delete(key); // re-inserted below: the Map's order is the use order
    if (!w || now - w.start >= this.windowMs) w = { start: now, count: 0 };
    this.windows.set(key, w);
    if (this.windows.size > this.maxKeys) this.windows.delete(this.windows.keys().next().value!);
    w.count += 1;
    return w.count > this.limit ? Math.ceil((w.start + this.windowMs - now) / 1000) : 0;
  }

  get size(): number {
    return this.windows.size;
  }
}
