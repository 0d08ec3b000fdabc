import { PassThrough } from 'node:stream';

/**
 * A pass-through that hands its reader each chunk as it was written, holding up to 4 MiB on the
 * way in and one chunk on the way out. `for await` over a byte-mode stream joins everything
 * buffered into a fresh buffer on every read: a copy of most of the data, and garbage to collect.
 */
export function chunkPassThrough(): PassThrough {
  return new PassThrough({ writableHighWaterMark: 4 << 20, readableObjectMode: true, readableHighWaterMark: 1 });
}
