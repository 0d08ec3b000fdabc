import { createHash } from 'node:crypto';
import { chunkId, gearTable, sealChunk, type ChunkKeys } from '@coffer/crypto';
import { CutFinder, type ChunkerParams } from './cut-finder.js';
import type { Destination } from '../destinations.js';
import { CofferError, EXIT } from '../errors.js';
import type { ChunkedLayout } from './layout.js';
import type { ManifestEntry } from './manifest.js';
import { putVerified } from './put-verified.js';

/** One destination of a chunked backup, as the run goes. */
export interface ChunkSink {
  readonly destination: Destination;
  /** Chunk ids stored there: those listed when the run began (SPEC §13 step 1), then those it uploads. */
  readonly present: Set<string>;
  uploadedChunks: number;
  uploadedBytes: number;
  /** Set once an upload there failed: the destination gets no manifest from this run. */
  error?: unknown;
}

export interface WriteChunksOptions {
  readonly keys: ChunkKeys;
  readonly recipient: Uint8Array;
  readonly layout: ChunkedLayout;
  readonly sinks: readonly ChunkSink[];
  readonly params: ChunkerParams;
  /** Chunks sealed and uploading at once: each holds at most a chunk and its object in memory. */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  /** Called with each piece of the stream once it has been copied: its memory may be reused. */
  readonly onConsumed?: (piece: Uint8Array) => void;
}

/**
 * Cuts a stream into chunks (SPEC §9) and uploads, to each destination, the chunks it lacks,
 * verified; returns the manifest's entries. Memory: `concurrency` chunks of at most `params.max`.
 */
export async function writeChunks(stream: AsyncIterable<Uint8Array>, options: WriteChunksOptions): Promise<ManifestEntry[]> {
  const { keys, recipient, layout, sinks, params, signal } = options;
  const concurrency = options.concurrency ?? 4;
  const finder = new CutFinder(gearTable(keys.gear), params);
  const entries: ManifestEntry[] = [];
  const inFlight = new Set<Promise<void>>();

  const upload = async (chunk: Buffer, id: string, to: readonly ChunkSink[]) => {
    const object = await sealChunk(recipient, chunk);
    await Promise.all(
      to.map(async (sink) => {
        try {
          await putVerified(sink.destination, layout.chunk(id), object, signal);
          sink.uploadedChunks += 1;
          sink.uploadedBytes += object.length;
        } catch (err) {
          sink.error ??= err;
        }
      }),
    );
  };

  const emit = async (chunk: Buffer) => {
    const id = chunkId(keys.chunkId, chunk);
    entries.push({ id, length: chunk.length, sha256: createHash('sha256').update(chunk).digest('hex') });
    const lacking = sinks.filter((s) => s.error === undefined && !s.present.has(id));
    if (lacking.length === 0) return;
    // Claimed now, so a chunk that repeats within this backup is uploaded once.
    for (const sink of lacking) sink.present.add(id);
    const job = upload(chunk, id, lacking).finally(() => inFlight.delete(job));
    inFlight.add(job);
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (sinks.every((s) => s.error !== undefined)) throw sinks[0]!.error;
  };

  let buffer = Buffer.allocUnsafe(params.max);
  let fill = 0;
  try {
    for await (const piece of stream) {
      let at = 0;
      while (at < piece.length) {
        const cut = finder.next(piece, at);
        const end = cut === -1 ? piece.length : cut;
        buffer.set(piece.subarray(at, end), fill);
        fill += end - at;
        at = end;
        if (cut === -1) break;
        await emit(buffer.subarray(0, fill));
        buffer = Buffer.allocUnsafe(params.max);
        fill = 0;
      }
      options.onConsumed?.(piece);
    }
    if (fill > 0) await emit(buffer.subarray(0, fill));
  } finally {
    await Promise.all(inFlight);
  }
  if (sinks.every((s) => s.error !== undefined)) throw sinks[0]?.error ?? new CofferError('DESTINATION', 'no destination to write to', EXIT.failure);
  return entries;
}
