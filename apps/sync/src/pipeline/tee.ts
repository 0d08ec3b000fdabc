import { createChecksum, type ChecksumAlgorithm } from '@coffer/storage';
import { chunkPassThrough } from '../chunk-pass-through.js';
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
  /** Hex digests of exactly the bytes sent, for the algorithms asked for. */
  readonly checksums: Partial<Record<ChecksumAlgorithm, string>>;
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
  options: { checksums: ReadonlySet<ChecksumAlgorithm> },
): Promise<TeeResult<T>> {
  // Only the checksums someone compares against: each one is a pass over every byte on this thread.
  const sums = [...options.checksums].map((algorithm) => ({ algorithm, sum: createChecksum(algorithm) }));
  let size = 0;
  const live = branches.map((branch) => {
    const pipe = chunkPassThrough();
    // The consumer learns of a failure by reading, whenever it starts; until it listens (a put
    // still opening its object), a destroyed branch would raise an unhandled 'error' and crash.
    pipe.on('error', () => {});
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
      for (const { sum } of sums) sum.update(chunk);
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
  const checksums = Object.fromEntries(sums.map(({ algorithm, sum }) => [algorithm, sum.digest()]));
  return { checksums, size, outcomes, allFailed: live.every(({ state }) => state.failed) };
}
