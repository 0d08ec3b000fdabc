import { pipeline, Transform, type Readable } from 'node:stream';
import { StorageError } from './errors.js';

/**
 * Passes bytes through and errors if the source ends before `expected` bytes (a short read) or
 * goes past them. A short read must never look like a complete object.
 */
export function verifyLength(
  source: Readable,
  expected: number,
  backend: string,
  key: string,
  mapError: (err: unknown) => Error = (err) => err as Error,
): Readable {
  let seen = 0;
  const check = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      seen += chunk.length;
      if (seen > expected) return callback(new StorageError('INTEGRITY', `${key}: more bytes than expected`, { backend, key }));
      callback(null, chunk);
    },
    flush(callback) {
      if (seen !== expected) {
        return callback(new StorageError('INTEGRITY', `${key}: short read (${seen} of ${expected} bytes)`, { backend, key }));
      }
      callback();
    },
  });
  source.on('error', (err) => check.destroy(mapError(err)));
  // The callback only swallows the duplicate report: consumers see the error on `check`.
  return pipeline(source, check, () => {});
}
