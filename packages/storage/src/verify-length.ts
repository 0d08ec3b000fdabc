import { pipeline, Transform, type Readable } from 'node:stream';
import { StorageError } from './errors.js';

/**
 * Passes bytes through and errors if the source ends before `expected` bytes (a short read) or
 * goes past them. A short read must never look like a complete object. With `idleMs`, a source
 * that sends nothing for that long while the reader wants more fails as TRANSIENT (a stalled
 * socket), so a download cannot hang forever.
 */
export function verifyLength(
  source: Readable,
  expected: number,
  backend: string,
  key: string,
  mapError: (err: unknown) => Error = (err) => err as Error,
  idleMs?: number,
): Readable {
  let seen = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    if (!idleMs) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      // The reader is slow, not the source: wait on.
      if (check.readableLength >= check.readableHighWaterMark) return arm();
      const err = new StorageError('TRANSIENT', `${key}: the download stalled (nothing received for ${idleMs / 1000} s)`, { backend, key, providerCode: 'timeout' });
      check.destroy(err);
      source.destroy();
    }, idleMs);
    timer.unref();
  };
  const check = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      arm();
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
  check.on('close', () => clearTimeout(timer));
  check.on('end', () => clearTimeout(timer));
  arm();
  // The callback only swallows the duplicate report: consumers see the error on `check`.
  return pipeline(source, check, () => {});
}
