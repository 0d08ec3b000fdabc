import { tarHeaders as codec, type DecodedHeader } from './tar-headers.js';
import { padLength } from './tar-layout.js';
import { readBlock } from './ustar-block.js';

/** The largest pax or GNU long-name body accepted, as tar-stream's extract. */
const MAX_LONG_HEADER = 4 << 20;

/** One entry of a tar stream: its header, with long names and pax records applied. */
export interface TarEntry {
  readonly header: DecodedHeader;
  /** The whole content, for an entry of at most `wholeBytes`. */
  readonly data?: Buffer;
  /** A larger entry's content, piece by piece. Whatever is not read is skipped. */
  readonly pieces?: AsyncIterable<Buffer>;
}

/** Bytes received and not yet parsed: chunks from `head` on, and how far into the first one. */
class Pending {
  private chunks: Array<Buffer | undefined> = [];
  private head = 0;
  private offset = 0;
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The next `n` bytes (n ≤ length): a view where they lie in one chunk, else a copy. */
  take(n: number): Buffer {
    const first = this.chunks[this.head];
    if (first && first.length - this.offset >= n) return this.front(n);
    const out = Buffer.allocUnsafe(n);
    for (let filled = 0; filled < n; ) {
      const part = this.front(Math.min(n - filled, this.chunks[this.head]!.length - this.offset));
      out.set(part, filled);
      filled += part.length;
    }
    return out;
  }

  /** Up to `n` of the next bytes, from the first chunk only: never a copy. */
  takeUpTo(n: number): Buffer {
    return this.front(Math.min(n, this.chunks[this.head]!.length - this.offset));
  }

  private front(n: number): Buffer {
    const first = this.chunks[this.head]!;
    const out = first.subarray(this.offset, this.offset + n);
    this.offset += n;
    this.length -= n;
    if (this.offset === first.length) {
      // Let go of it now; the array is trimmed in bulk, as shifting each off would move the rest.
      this.chunks[this.head++] = undefined;
      if (this.head > 64 && this.head * 2 > this.chunks.length) [this.chunks, this.head] = [this.chunks.slice(this.head), 0];
      this.offset = 0;
    }
    return out;
  }
}

const truncated = () => new Error('Unexpected end of data');

/**
 * Parses a tar stream as tar-stream's extract does (its decoders, or `readBlock` where they agree; pax and GNU long names, zero
 * blocks skipped, the same errors), without a stream per entry. Each entry's content MUST be
 * done with before the next entry is asked for: `data` may be a view of a chunk of `source`.
 * Stopping early stops `source`.
 */
export async function* tarEntries(source: AsyncIterable<Buffer>, wholeBytes: number): AsyncGenerator<TarEntry> {
  const input = source[Symbol.asyncIterator]();
  const pending = new Pending();
  /** Whether `n` bytes are pending, reading on as needed; false at the end of `source`. */
  const fill = async (n: number): Promise<boolean> => {
    while (pending.length < n) {
      const next = await input.next();
      if (next.done) return false;
      pending.push(next.value);
    }
    return true;
  };
  const skip = async (n: number): Promise<void> => {
    for (let left = n; left > 0; left -= pending.takeUpTo(left).length) if (!(await fill(1))) throw truncated();
  };
  let pax: Record<string, string> | null = null;
  let paxGlobal: Record<string, string> | null = null;
  let longPath: string | null = null;
  let longLinkPath: string | null = null;
  try {
    for (;;) {
      if (!(await fill(512))) {
        if (pending.length > 0) throw truncated();
        return;
      }
      const block = pending.take(512);
      const header = readBlock(block) ?? codec.decode(block, 'utf-8', false);
      if (!header) continue; // a zero block: the end-of-archive marker, or padding after it
      const size = header.size ?? 0;
      switch (header.type) {
        case 'gnu-long-path':
        case 'gnu-long-link-path':
        case 'pax-global-header':
        case 'pax-header': {
          if (size > MAX_LONG_HEADER) throw new Error('Header exceeds max size');
          if (!(await fill(size))) throw truncated();
          const body = pending.take(size);
          if (header.type === 'gnu-long-path') longPath = codec.decodeLongPath(body, 'utf-8');
          else if (header.type === 'gnu-long-link-path') longLinkPath = codec.decodeLongPath(body, 'utf-8');
          else if (header.type === 'pax-global-header') paxGlobal = codec.decodePax(body);
          else pax = { ...paxGlobal, ...codec.decodePax(body) };
          await skip(padLength(size));
          continue;
        }
      }
      if (longPath !== null) [header.name, longPath] = [longPath, null];
      if (longLinkPath !== null) [header.linkname, longLinkPath] = [longLinkPath, null];
      if (pax) {
        if (pax.path) header.name = pax.path;
        if (pax.linkpath) header.linkname = pax.linkpath;
        if (pax.size) header.size = parseInt(pax.size, 10);
        header.pax = pax;
        pax = null;
      }
      const length = header.size ?? 0;
      if (!(length >= 0)) throw new Error('Invalid header');
      if (length <= wholeBytes) {
        if (!(await fill(length))) throw truncated();
        yield { header, data: pending.take(length) };
      } else {
        let left = length;
        const pieces = (async function* () {
          while (left > 0) {
            if (!(await fill(1))) throw truncated();
            const piece = pending.takeUpTo(left);
            left -= piece.length;
            yield piece;
          }
        })();
        yield { header, pieces };
        await skip(left); // what the consumer did not read
      }
      await skip(padLength(length));
    }
  } finally {
    await input.return?.();
  }
}
