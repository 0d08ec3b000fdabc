import type { Readable } from 'node:stream';
import type { ChecksumAlgorithm } from './checksum.js';

/** What a backend can do, as data: callers branch on these, never on `instanceof`. */
export interface StorageCapabilities {
  /** A `put` becomes visible all at once, when complete, or not at all. */
  readonly atomicWrites: boolean;
  /**
   * The checksum the provider itself reports for stored bytes, if any. A `put` on a backend that
   * names one MUST return it, computed over what was stored, never copied from the caller.
   */
  readonly providerChecksum: ChecksumAlgorithm | 'none';
  /** An interrupted upload can continue from the last byte the provider confirmed. */
  readonly resumableUploads: boolean;
  /** `get` honours byte ranges without reading the whole object. */
  readonly rangedReads: boolean;
}

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly modifiedAt: Date;
}

export interface PutOptions {
  /** Aborting MUST leave no visible object and reject with an ABORTED StorageError. */
  readonly signal?: AbortSignal;
  /** Called with the running total of bytes sent. */
  readonly onProgress?: (bytesSent: number) => void;
  /** Size in bytes when known in advance; backends may use it to pick a strategy. */
  readonly size?: number;
  /**
   * Runs one provider request of this put (an S3 part, a Drive chunk, the completion) under the
   * caller's retry policy; `RetryingBackend` passes it. A backend MUST only hand it requests it
   * can repeat from what it holds (a buffered part), each rejecting with a StorageError, and
   * MUST NOT retry on its own as well. Absent, each request is made once.
   */
  readonly retry?: RequestRetry;
}

/** See `PutOptions.retry`. `operation` names the request in logs: "put", "put part 3"... */
export type RequestRetry = <T>(operation: string, request: () => Promise<T>) => Promise<T>;

export interface PutResult {
  readonly key: string;
  /** Bytes the provider reports it stored. */
  readonly size: number;
  /** Hex digest the provider reports for what it stored, when `providerChecksum` is not 'none'. */
  readonly checksum?: { readonly algorithm: ChecksumAlgorithm; readonly value: string };
}

export interface ByteRange {
  /** First byte, inclusive. */
  readonly start: number;
  /** Last byte, exclusive; to the end of the object when omitted. */
  readonly end?: number;
}

export interface GetOptions {
  readonly range?: ByteRange;
  readonly signal?: AbortSignal;
}

/**
 * One contract for every place Coffer stores backups. Every method is required.
 * Keys are `/`-separated and validated by every method (see `validateKey`).
 * Errors are always `StorageError`s: provider errors never leak past a backend.
 */
export interface StorageBackend {
  /** Short name for logs and errors, e.g. "local:/mnt/backups". MUST NOT contain secrets. */
  readonly name: string;
  readonly capabilities: StorageCapabilities;

  /**
   * Stores `body` under `key`, replacing any object there.
   * The object MUST become visible to `get`, `stat` and `list` only when complete: a failed or
   * aborted put, or a body stream that errors, MUST leave no object (and MUST leave a previous
   * object under the same key intact). The body is read once, in order, with bounded memory.
   */
  put(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult>;

  /**
   * Streams an object's bytes, or the range asked for. MUST reject with NOT_FOUND for a missing key.
   * The stream MUST error (never end cleanly) if fewer bytes arrive than the object or range holds.
   */
  get(key: string, options?: GetOptions): Promise<Readable>;

  /** MUST reject with NOT_FOUND for a missing key. */
  stat(key: string): Promise<ObjectInfo>;

  /**
   * Yields every object whose key starts with `prefix` exactly once, across however many pages
   * the provider uses, in no particular order. Incomplete uploads MUST NOT be yielded.
   */
  list(prefix: string): AsyncIterable<ObjectInfo>;

  /** Removes an object. MUST succeed when the key does not exist (idempotent). */
  delete(key: string): Promise<void>;
}
