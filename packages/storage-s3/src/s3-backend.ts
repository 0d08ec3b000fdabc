import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
  type ServerSideEncryption,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  StorageError,
  type RequestRetry,
  validateKey,
  validatePrefix,
  verifyLength,
  type GetOptions,
  type ObjectInfo,
  type PutOptions,
  type PutResult,
  type StorageBackend,
  type StorageCapabilities,
} from '@coffer/storage';
import { s3Error } from './errors.js';
import { ExpectedEtag } from './etag.js';

export interface S3BackendOptions {
  readonly bucket: string;
  /** Key prefix inside the bucket, e.g. "backups/" (default none). */
  readonly prefix?: string;
  readonly region?: string;
  /** For S3-compatible servers (MinIO, Ceph, Backblaze, moto, s3rver...). */
  readonly endpoint?: string;
  readonly forcePathStyle?: boolean;
  /** Explicit credentials; when absent the standard AWS provider chain is used. */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Multipart part size in bytes (≥ 5 MiB): memory use is about partSize × (queueSize + 1). */
  readonly partSize?: number;
  /** Parts uploaded concurrently. */
  readonly queueSize?: number;
  readonly serverSideEncryption?: ServerSideEncryption;
  readonly storageClass?: StorageClass;
  /** Objects per listing page (S3 caps it at 1000). */
  readonly pageSize?: number;
  /** ListObjects version: 2 (default) or 1 for servers that only implement v1 (older Ceph, s3rver). */
  readonly listApi?: 1 | 2;
  /**
   * A request that sends or receives nothing for this long fails (TRANSIENT, retried): a stalled
   * socket must not hang a backup forever. Also the connect timeout. Default 120 s.
   */
  readonly timeoutMs?: number;
  /** Extra client settings (tests: `expectContinueHeader: false` under msw). */
  readonly clientConfig?: Partial<S3ClientConfig>;
}

const MIB = 1024 * 1024;

/**
 * S3 and S3-compatible servers. Uploads stream through lib-storage's multipart upload with bounded
 * memory; a failed or aborted upload is aborted server-side, so nothing becomes visible.
 */
export class S3Backend implements StorageBackend {
  readonly name: string;
  readonly capabilities: StorageCapabilities;
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly pageSize: number;

  constructor(private readonly options: S3BackendOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.partSize = options.partSize ?? 16 * MIB;
    this.queueSize = options.queueSize ?? 2;
    this.pageSize = options.pageSize ?? 1000;
    this.capabilities = {
      atomicWrites: true, // PutObject and CompleteMultipartUpload are atomic in S3
      // The ETag is an MD5 of the bytes (checked in put) except under SSE-KMS, where it is opaque.
      providerChecksum: options.serverSideEncryption === 'aws:kms' ? 'none' : 'md5',
      resumableUploads: false, // each part is retried (PutOptions.retry); a whole upload is not resumed
      rangedReads: true,
    };
    if (this.partSize < 5 * MIB) throw new StorageError('INVALID_ARGUMENT', 'S3 part size must be at least 5 MiB', { backend: 's3' });
    this.name = `s3:${options.endpoint ? `${options.endpoint}/` : ''}${options.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
    this.client = new S3Client({
      region: options.region ?? 'us-east-1',
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
      // Checksums only when S3 requires them: some S3-compatible servers (s3rver) otherwise store
      // the aws-chunked framing inside the object. Integrity is checked through the ETag instead.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // One retry layer: Coffer's (RetryingBackend, and PutOptions.retry for each part), which
      // logs every retry, honours Retry-After, and never retries a permanent error. The SDK's own
      // retries (3 attempts by default, 503 SlowDown included) would multiply with it: 4 × 6 gave
      // up to 24 tries per call, silently.
      maxAttempts: 1,
      // requestTimeout is the socket's idle time (node-http-handler), not the whole request's:
      // a slow but moving upload is fine, a stalled one fails and is retried.
      // Without throwOnRequestTimeout this SDK only logs a warning and keeps waiting.
      requestHandler: { connectionTimeout: options.timeoutMs ?? 120_000, requestTimeout: options.timeoutMs ?? 120_000, throwOnRequestTimeout: true },
      ...options.clientConfig,
    });
  }

  private full(key: string): string {
    return `${this.prefix}${validateKey(key, this.name)}`;
  }

  async put(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    const Key = this.full(key);
    if (options.signal?.aborted) throw new StorageError('ABORTED', `upload of ${key} was aborted`, { backend: this.name, key });
    const expected = new ExpectedEtag(this.partSize);
    let bodyError: unknown;
    const source = body[Symbol.asyncIterator]();
    // Only errors from the source itself count as a failed source: the SDK also throws into this
    // generator when it tears an upload down, and those are S3's errors, not the caller's.
    const counted = async function* () {
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await source.next();
        } catch (err) {
          bodyError = err;
          throw err;
        }
        if (next.done) return;
        expected.update(next.value);
        yield next.value;
      }
    };
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    options.signal?.addEventListener('abort', onAbort);
    const upload = new Upload({
      client: this.retryingClient(key, options.retry),
      params: {
        Bucket: this.bucket,
        Key,
        Body: Readable.from(counted()),
        ServerSideEncryption: this.options.serverSideEncryption,
        StorageClass: this.options.storageClass,
      },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false, // abort the multipart upload: nothing half-made stays behind
      abortController: abort,
    });
    upload.on('httpUploadProgress', (p) => p.loaded !== undefined && options.onProgress?.(p.loaded));
    let etag: string | undefined;
    try {
      const out = await upload.done();
      etag = out.ETag;
    } catch (err) {
      if (options.signal?.aborted) throw new StorageError('ABORTED', `upload of ${key} was aborted`, { backend: this.name, key, cause: err });
      if (bodyError) throw new StorageError('ABORTED', `upload of ${key} failed because its source stream failed: ${(bodyError as Error)?.message}`, { backend: this.name, key, cause: bodyError });
      throw s3Error(err, this.name, key);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    const { md5, etag: want } = expected.finish();
    const retry: RequestRetry = options.retry ?? ((_operation, request) => request());
    const head = await retry('stat', () => this.stat(key));
    const got = (etag ?? '').replace(/"/g, '');
    // S3 and most compatible servers report the multipart form; some report the whole object's
    // MD5. Both are computed from the bytes sent, so either one confirms what was stored.
    const etagOk = this.capabilities.providerChecksum === 'none' || got === want || got === md5;
    if (head.size !== expected.size || !etagOk) {
      // The object is wrong: remove it rather than leave a damaged copy that looks complete.
      await retry('delete', () => this.delete(key)).catch(() => {});
      throw new StorageError('INTEGRITY', `${this.name}: ${key} was stored damaged (ETag ${got || 'missing'}, expected ${want}; size ${head.size} of ${expected.size})`, { backend: this.name, key });
    }
    options.onProgress?.(expected.size);
    if (this.capabilities.providerChecksum === 'none') return { key, size: head.size };
    // The ETag matched the bytes sent, so their MD5 is what the provider stored.
    return { key, size: head.size, checksum: { algorithm: 'md5', value: md5 } };
  }

  /**
   * The client lib-storage's Upload sends through: each request it makes (PutObject, each part,
   * create, complete, abort) is retried under the caller's policy. Every one of them can be
   * repeated: a part's bytes are a buffer lib-storage holds until the part is acknowledged.
   */
  private retryingClient(key: string, retry: RequestRetry | undefined): S3Client {
    const { client, name } = this;
    const send = (command: { constructor: unknown; input: unknown }, sendOptions?: unknown) => {
      const attempt = async () => {
        try {
          // A fresh command per attempt: a command's middleware state is not meant to be reused.
          const Command = command.constructor as new (input: unknown) => never;
          return await client.send(new Command(command.input), sendOptions as never);
        } catch (err) {
          throw s3Error(err, name, key);
        }
      };
      return retry ? retry(requestName(command), attempt) : attempt();
    };
    return new Proxy(client, { get: (target, property, receiver) => (property === 'send' ? send : Reflect.get(target, property, receiver)) });
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const Key = this.full(key);
    let range: string | undefined;
    let expected: number | undefined;
    if (options.range) {
      const { size } = await this.stat(key);
      const end = Math.min(options.range.end ?? size, size);
      if (!Number.isSafeInteger(options.range.start) || options.range.start < 0 || options.range.start > end) {
        throw new StorageError('INVALID_ARGUMENT', `invalid byte range ${JSON.stringify(options.range)} for a ${size}-byte object`, { backend: this.name, key });
      }
      if (end === options.range.start) return Readable.from([]);
      range = `bytes=${options.range.start}-${end - 1}`;
      expected = end - options.range.start;
    }
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range: range }), { abortSignal: options.signal });
      const length = expected ?? out.ContentLength ?? 0;
      if (!out.Body) return Readable.from([]);
      return verifyLength(out.Body as Readable, length, this.name, key, (err) => s3Error(err, this.name, key));
    } catch (err) {
      throw s3Error(err, this.name, key);
    }
  }

  async stat(key: string): Promise<ObjectInfo> {
    const Key = this.full(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { key, size: out.ContentLength ?? 0, modifiedAt: out.LastModified ?? new Date(0) };
    } catch (err) {
      throw s3Error(err, this.name, key);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix, this.name);
    const Prefix = `${this.prefix}${prefix}`;
    let token: string | undefined;
    do {
      let contents: { Key?: string; Size?: number; LastModified?: Date }[];
      try {
        if (this.options.listApi === 1) {
          const page = await this.client.send(new ListObjectsCommand({ Bucket: this.bucket, Prefix, Marker: token, MaxKeys: this.pageSize }));
          contents = page.Contents ?? [];
          token = page.IsTruncated ? (page.NextMarker ?? contents.at(-1)?.Key) : undefined;
        } else {
          const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken: token, MaxKeys: this.pageSize }));
          contents = page.Contents ?? [];
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        }
      } catch (err) {
        throw s3Error(err, this.name, prefix);
      }
      for (const object of contents) {
        if (!object.Key) continue;
        yield { key: object.Key.slice(this.prefix.length), size: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) };
      }
    } while (token);
  }

  async delete(key: string): Promise<void> {
    const Key = this.full(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      const mapped = s3Error(err, this.name, key);
      if (mapped.code !== 'NOT_FOUND' || (err as { name?: string }).name === 'NoSuchBucket') throw mapped;
    }
  }

  /** Aborts multipart uploads under the prefix started more than `olderThanMs` ago (crash leftovers). */
  async cleanupIncomplete(olderThanMs = 24 * 3600_000): Promise<number> {
    let removed = 0;
    try {
      const out = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.prefix }));
      for (const u of out.Uploads ?? []) {
        if (!u.Key || !u.UploadId || (u.Initiated && Date.now() - u.Initiated.getTime() < olderThanMs)) continue;
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }));
        removed += 1;
      }
    } catch (err) {
      throw s3Error(err, this.name);
    }
    return removed;
  }
}

/** "put", "put part 3", "start put", "complete put", "abort put": for retry log lines. */
function requestName(command: { constructor: unknown; input: unknown }): string {
  const type = (command.constructor as { name?: string }).name ?? '';
  const input = command.input as { PartNumber?: number };
  if (type === 'UploadPartCommand') return `put part ${input.PartNumber}`;
  if (type === 'CreateMultipartUploadCommand') return 'start put';
  if (type === 'CompleteMultipartUploadCommand') return 'complete put';
  if (type === 'AbortMultipartUploadCommand') return 'abort put';
  return 'put';
}
