import type { ByteRange } from './backend.js';
import { StorageError } from './errors.js';

/** Clamps a range to an object of `size` bytes; returns [start, endExclusive). */
export function resolveRange(range: ByteRange | undefined, size: number, backend: string, key: string): [number, number] {
  if (!range) return [0, size];
  const end = Math.min(range.end ?? size, size);
  if (!Number.isSafeInteger(range.start) || range.start < 0 || (range.end !== undefined && !Number.isSafeInteger(range.end)) || range.start > end) {
    throw new StorageError('INVALID_ARGUMENT', `invalid byte range ${JSON.stringify(range)} for a ${size}-byte object`, { backend, key });
  }
  return [range.start, end];
}
