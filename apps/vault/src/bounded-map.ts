/**
 * A map whose entries expire after `ttlMs` and which never holds more than `max` of them: when full,
 * the oldest entry is forgotten. For in-memory protocol state (logins, sessions, enrolments) that a
 * flood of requests must not grow without bound.
 */
export class BoundedMap<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  set(key: string, value: V, now = Date.now()): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expires: now + this.ttlMs });
    // Insertion order is age order (every entry has the same TTL): the first ones are the oldest.
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.max && e.expires >= now) break;
      this.entries.delete(k);
    }
  }

  /** The live value, or undefined when absent or expired. */
  get(key: string, now = Date.now()): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires < now) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Removes and returns the live value (one use only). */
  take(key: string, now = Date.now()): V | undefined {
    const v = this.get(key, now);
    this.entries.delete(key);
    return v;
  }

  get size(): number {
    return this.entries.size;
  }
}
