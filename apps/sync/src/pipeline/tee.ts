import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { drained } from '../drained.js';

export interface TeeBranch {
  readonly name: string;
  /** Consumes the branch's bytes; resolves when the consumer is done with them. */
  readonly consume: (body: AsyncIterable<Uint8Array>) => Promise<unknown>;
}

export interface TeeOutcome<T> {
  readonly name: string;
  readonly result?: T;
  readonly error?: unknown;
}

export interface TeeResult<T> {
  readonly sha256: string;
  readonly md5: string;
  readonly size: number;
  readonly outcomes: TeeOutcome<T>[];
  /** Every consumer failed, so the source was not read to its end. */
  readonly allFailed: boolean;
}

/**
 * Feeds one source to several consumers with backpressure (the slowest sets the pace), hashing
 * exactly the bytes sent. A consumer that fails is dropped; the others still finish.
 */
export async function tee<T>(
  source: AsyncIterable<Uint8Array>,
  branches: readonly TeeBranch[],
  options: { md5: boolean },
): Promise<TeeResult<T>> {
  const sha = createHash('sha256');
  // MD5 only when a destination reports it (S3's ETag): at ~0.6 GB/s it would cost seconds per GiB.
  const md5 = options.md5 ? createHash('md5') : undefined;
  let size = 0;
  const live = branches.map((branch) => {
    const pipe = new PassThrough({ highWaterMark: 4 << 20 });
    const state = { branch, pipe, failed: false, error: undefined as unknown, result: undefined as T | undefined };
    const done = branch.consume(pipe).then(
      (r) => {
        state.result = r as T;
      },
      (err) => {
        state.failed = true;
        state.error = err;
        pipe.destroy();
      },
    );
    return { state, done };
  });
  let sourceError: unknown;
  try {
    for await (const chunk of source) {
      sha.update(chunk);
      md5?.update(chunk);
      size += chunk.length;
      await Promise.all(
        live.map(async ({ state, done }) => {
          if (state.failed || state.pipe.destroyed) return;
          if (!state.pipe.write(chunk)) {
            await Promise.race([drained(state.pipe), done]);
          }
        }),
      );
      if (live.every(({ state }) => state.failed)) break;
    }
  } catch (err) {
    sourceError = err;
  }
  for (const { state } of live) {
    if (sourceError) state.pipe.destroy(sourceError as Error);
    else if (!state.failed) state.pipe.end();
  }
  await Promise.all(live.map(({ done }) => done));
  const outcomes = live.map(({ state }) => ({ name: state.branch.name, result: state.result, error: state.failed ? state.error : undefined }));
  if (sourceError) throw sourceError;
  return { sha256: sha.digest('hex'), md5: md5?.digest('hex') ?? '', size, outcomes, allFailed: live.every(({ state }) => state.failed) };
}
