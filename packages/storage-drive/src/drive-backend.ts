import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { drive as driveApi, type drive_v3 } from '@googleapis/drive';
import {
  StorageError,
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
import type { DriveAuthClient } from './credentials.js';
import { driveError } from './errors.js';

export const APP_DATA = 'appDataFolder';
const QUANTUM = 256 * 1024; // Drive requires resumable chunks in multiples of 256 KiB
const MARK = 'coffer'; // appProperties marker: only our files are ever listed or deleted

export interface DriveBackendOptions {
  readonly auth: DriveAuthClient;
  /** `appDataFolder` (hidden, per-app; default) or the name of a folder in My Drive. */
  readonly folder?: string;
  /** Resumable upload chunk size; rounded to a multiple of 256 KiB. Memory holds one chunk. */
  readonly chunkSize?: number;
  /** API root, e.g. "https://www.googleapis.com/" (tests point it at the fake Drive). */
  readonly rootUrl?: string;
  readonly pageSize?: number;
  /** Attempts per chunk on transient failures before the upload fails. */
  readonly chunkAttempts?: number;
  readonly retryDelayMs?: number;
}

interface DriveFile {
  id: string;
  name: string;
  size: number;
  modifiedTime: string;
  md5Checksum?: string;
  sha256Checksum?: string;
}

const escapeQ = (s: string) => s.replace(/\\/g, '\\\\').replace(/'/g, "\\'");

/** Newest first, then by id: a deterministic choice among files that share a name. */
const newestFirst = (a: DriveFile, b: DriveFile) => b.modifiedTime.localeCompare(a.modifiedTime) || (a.id < b.id ? -1 : 1);

function toFile(f: drive_v3.Schema$File): DriveFile {
  return { id: f.id!, name: f.name!, size: Number(f.size ?? 0), modifiedTime: f.modifiedTime ?? '', md5Checksum: f.md5Checksum ?? undefined, sha256Checksum: f.sha256Checksum ?? undefined };
}

/**
 * Google Drive, in the hidden app-data folder (scope drive.appdata, as WhatsApp does) or a named
 * folder. Keys are file names; files carry appProperties {coffer: "1"}.
 */
export class DriveBackend implements StorageBackend {
  readonly name: string;
  readonly capabilities: StorageCapabilities = {
    atomicWrites: true, // a resumable upload is invisible until its last chunk lands
    providerChecksum: 'md5', // Drive reports md5Checksum for every binary file
    resumableUploads: true,
    rangedReads: true,
  };
  private readonly api: drive_v3.Drive;
  private readonly folder: string;
  private readonly rootUrl: string;
  private readonly chunkSize: number;
  private folderId: Promise<string> | undefined;

  constructor(private readonly options: DriveBackendOptions) {
    this.folder = options.folder ?? APP_DATA;
    this.rootUrl = (options.rootUrl ?? 'https://www.googleapis.com/').replace(/\/?$/, '/');
    this.chunkSize = Math.max(QUANTUM, Math.round((options.chunkSize ?? 8 * 1024 * 1024) / QUANTUM) * QUANTUM);
    this.name = `drive:${this.folder}`;
    this.api = driveApi({ version: 'v3', auth: options.auth, rootUrl: this.rootUrl });
  }

  /**
   * Runs one API call; on a 401 forces a token refresh and tries once more (the access token
   * expired or was revoked). A second 401, or a refresh Google refuses, is UNAUTHENTICATED.
   * (google-auth-library's own retry also fires on every 403, rate limits included, which would
   * bypass our backoff; so it is not used.)
   */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const status = (err as { response?: { status?: number } })?.response?.status;
      if (status !== 401) throw err;
      const client = this.options.auth;
      client.setCredentials({ ...client.credentials, access_token: null, expiry_date: null });
      await client.getAccessToken();
      return fn();
    }
  }

  private get spaces(): string {
    return this.folder === APP_DATA ? APP_DATA : 'drive';
  }

  /** The folder's id, created on first use; among same-named folders the oldest wins. */
  private resolveFolder(): Promise<string> {
    if (this.folder === APP_DATA) return Promise.resolve(APP_DATA);
    this.folderId ??= (async () => {
      try {
        const q = `mimeType = 'application/vnd.google-apps.folder' and name = '${escapeQ(this.folder)}' and 'root' in parents and trashed = false`;
        const found = await this.call(() => this.api.files.list({ q, spaces: 'drive', fields: 'files(id,createdTime)', pageSize: 100 }));
        const existing = (found.data.files ?? []).sort((a, b) => (a.createdTime ?? '').localeCompare(b.createdTime ?? '') || (a.id! < b.id! ? -1 : 1))[0];
        if (existing?.id) return existing.id;
        const made = await this.call(() => this.api.files.create({ requestBody: { name: this.folder, mimeType: 'application/vnd.google-apps.folder', parents: ['root'] }, fields: 'id' }));
        return made.data.id!;
      } catch (err) {
        this.folderId = undefined;
        throw driveError(err, this.name);
      }
    })();
    return this.folderId;
  }

  /** Every file of ours in the folder, across pages. */
  private async *files(extraQ = ''): AsyncIterable<DriveFile> {
    const parent = await this.resolveFolder();
    let pageToken: string | undefined;
    do {
      let page;
      try {
        const token = pageToken;
        page = await this.call(() =>
          this.api.files.list({
            q: `'${parent}' in parents and trashed = false${extraQ}`,
            spaces: this.spaces,
            fields: 'nextPageToken, files(id,name,size,modifiedTime,md5Checksum,sha256Checksum,appProperties)',
            pageSize: this.options.pageSize ?? 1000,
            pageToken: token,
          }),
        );
      } catch (err) {
        throw driveError(err, this.name);
      }
      for (const f of page.data.files ?? []) if (f.appProperties?.[MARK] === '1' && f.id && f.name) yield toFile(f);
      pageToken = page.data.nextPageToken ?? undefined;
    } while (pageToken);
  }

  private async versions(key: string): Promise<DriveFile[]> {
    const all: DriveFile[] = [];
    for await (const f of this.files(` and name = '${escapeQ(key)}'`)) if (f.name === key) all.push(f);
    return all.sort(newestFirst);
  }

  private async current(key: string): Promise<DriveFile> {
    validateKey(key, this.name);
    const [newest] = await this.versions(key);
    if (!newest) throw new StorageError('NOT_FOUND', `${this.name}: no object ${key}`, { backend: this.name, key });
    return newest;
  }

  async put(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    validateKey(key, this.name);
    const aborted = () => new StorageError('ABORTED', `upload of ${key} was aborted`, { backend: this.name, key });
    if (options.signal?.aborted) throw aborted();
    const parent = await this.resolveFolder();
    const session = await this.startSession(key, parent);
    let file: DriveFile | undefined;
    try {
      file = await this.upload(session, key, body, options);
    } catch (err) {
      // Cancel the session so nothing half-made lingers, then report.
      await this.options.auth.request({ url: session, method: 'DELETE' }).catch(() => {});
      if (options.signal?.aborted) throw aborted();
      throw err;
    }
    // Drive allows duplicate names: remove older files with this key, so one version is visible.
    for (const old of await this.versions(key)) if (old.id !== file.id) await this.deleteId(old.id, key);
    const checksum = file.md5Checksum ? { algorithm: 'md5' as const, value: file.md5Checksum } : undefined;
    return { key, size: file.size, checksum };
  }

  private async startSession(key: string, parent: string): Promise<string> {
    try {
      const res = await this.call(() => this.options.auth.request({
        url: `${this.rootUrl}upload/drive/v3/files?uploadType=resumable&fields=id,name,size,modifiedTime,md5Checksum,sha256Checksum`,
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=UTF-8', 'x-upload-content-type': 'application/octet-stream' },
        data: JSON.stringify({ name: key, parents: [parent], appProperties: { [MARK]: '1' } }),
      }));
      const location = (res.headers as unknown as Headers).get?.('location') ?? (res.headers as unknown as Record<string, string>).location;
      if (!location) throw new StorageError('TRANSIENT', `${this.name}: Drive did not return an upload session`, { backend: this.name, key });
      return location;
    } catch (err) {
      throw driveError(err, this.name, key);
    }
  }

  /** Sends the body in chunks; keeps one unconfirmed chunk in memory so it can resume after a failure. */
  private async upload(session: string, key: string, body: AsyncIterable<Uint8Array>, options: PutOptions): Promise<DriveFile> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let confirmed = 0; // bytes Drive has acknowledged
    const take = (n: number): Buffer => {
      const all = Buffer.concat(pending, pendingBytes);
      const out = all.subarray(0, n);
      pending = [all.subarray(n)];
      pendingBytes -= n;
      return out;
    };
    const send = async (chunk: Buffer, final: boolean): Promise<DriveFile | null> => {
      const attempts = this.options.chunkAttempts ?? 6;
      let start = confirmed;
      let data = chunk;
      let resync = false; // after a failure: ask Drive what it has before sending again
      for (let attempt = 1; ; attempt++) {
        if (options.signal?.aborted) throw new StorageError('ABORTED', `upload of ${key} was aborted`, { backend: this.name, key });
        try {
          if (resync) {
            // Resume: Drive says how much of the upload it already has; send only the rest.
            const status = await this.queryStatus(session, key, final ? String(start + data.length) : '*');
            if (status.done) return status.done;
            data = data.subarray(Math.max(0, status.received - start));
            start = confirmed = status.received;
            resync = false;
          }
          if (!final) {
            // Non-final requests must be whole 256 KiB units: an unaligned tail (after Drive kept
            // part of a chunk) goes back in front of the data still to come.
            const aligned = data.length - (data.length % QUANTUM);
            if (aligned < data.length) {
              pending.unshift(data.subarray(aligned));
              pendingBytes += data.length - aligned;
              data = data.subarray(0, aligned);
            }
            if (data.length === 0) return null;
          }
          const total = final ? String(start + data.length) : '*';
          const range = data.length === 0 ? `bytes */${total}` : `bytes ${start}-${start + data.length - 1}/${total}`;
          const body = data;
          const res = await this.call(() =>
            this.options.auth.request<drive_v3.Schema$File>({
              url: session,
              method: 'PUT',
              headers: { 'content-range': range, 'content-type': 'application/octet-stream' },
              data: body,
              validateStatus: (st) => st === 308 || (st >= 200 && st < 300),
            }),
          );
          if (res.status !== 308) {
            options.onProgress?.(start + data.length);
            return toFile(res.data);
          }
          const acknowledged = rangeEnd(res.headers);
          // Drive may keep less than was sent: resend the rest with the next request.
          const kept = acknowledged - start;
          confirmed = acknowledged;
          options.onProgress?.(confirmed);
          if (kept >= data.length) return null;
          start = confirmed;
          data = data.subarray(kept);
        } catch (err) {
          const mapped = driveError(err, this.name, key);
          if (!mapped.isRetryable || attempt >= attempts) throw mapped;
          await sleep(Math.max(mapped.retryAfterMs ?? 0, Math.random() * (this.options.retryDelayMs ?? 500) * 2 ** (attempt - 1)));
          resync = true;
        }
      }
    };
    const source = body[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await source.next();
      } catch (err) {
        throw new StorageError('ABORTED', `upload of ${key} failed because its source stream failed: ${(err as Error)?.message}`, { backend: this.name, key, cause: err });
      }
      if (next.done) break;
      const chunk = next.value;
      if (options.signal?.aborted) throw new StorageError('ABORTED', `upload of ${key} was aborted`, { backend: this.name, key });
      pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      pendingBytes += chunk.length;
      // Send only when more data follows, so the final request can carry the total size.
      while (pendingBytes > this.chunkSize) await send(take(this.chunkSize), false);
    }
    const done = await send(take(pendingBytes), true);
    if (!done) throw new StorageError('TRANSIENT', `${this.name}: Drive did not finish the upload of ${key}`, { backend: this.name, key });
    return done;
  }

  private async queryStatus(session: string, key: string, total: string): Promise<{ received: number; done?: DriveFile }> {
    try {
      const res = await this.call(() =>
        this.options.auth.request<drive_v3.Schema$File>({
          url: session,
          method: 'PUT',
          headers: { 'content-range': `bytes */${total}` },
          validateStatus: (st) => st === 308 || (st >= 200 && st < 300),
        }),
      );
      if (res.status !== 308) return { received: Number(res.data.size ?? 0), done: toFile(res.data) };
      return { received: rangeEnd(res.headers) };
    } catch (err) {
      const mapped = driveError(err, this.name, key);
      if (mapped.code === 'NOT_FOUND') {
        throw new StorageError('TRANSIENT', `${this.name}: the upload session of ${key} expired; the backup must start over`, { backend: this.name, key, cause: err });
      }
      throw mapped;
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const file = await this.current(key);
    let headers: Record<string, string> | undefined;
    let expected = file.size;
    if (options.range) {
      const end = Math.min(options.range.end ?? file.size, file.size);
      if (!Number.isSafeInteger(options.range.start) || options.range.start < 0 || options.range.start > end) {
        throw new StorageError('INVALID_ARGUMENT', `invalid byte range ${JSON.stringify(options.range)} for a ${file.size}-byte object`, { backend: this.name, key });
      }
      if (end === options.range.start) return Readable.from([]);
      headers = { range: `bytes=${options.range.start}-${end - 1}` };
      expected = end - options.range.start;
    }
    if (file.size === 0) return Readable.from([]);
    try {
      const res = await this.call(() => this.api.files.get({ fileId: file.id, alt: 'media' }, { responseType: 'stream', headers, signal: options.signal }));
      return verifyLength(res.data as unknown as Readable, expected, this.name, key, (err) => driveError(err, this.name, key));
    } catch (err) {
      throw driveError(err, this.name, key);
    }
  }

  async stat(key: string): Promise<ObjectInfo> {
    const file = await this.current(key);
    return { key, size: file.size, modifiedAt: new Date(file.modifiedTime) };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    validatePrefix(prefix, this.name);
    // Drive's `name contains` matches words, not prefixes: filter here, and pick one file per key.
    const newest = new Map<string, DriveFile>();
    for await (const f of this.files()) {
      if (!f.name.startsWith(prefix)) continue;
      const seen = newest.get(f.name);
      if (!seen || newestFirst(f, seen) < 0) newest.set(f.name, f);
    }
    for (const f of newest.values()) yield { key: f.name, size: f.size, modifiedAt: new Date(f.modifiedTime) };
  }

  async delete(key: string): Promise<void> {
    validateKey(key, this.name);
    for (const f of await this.versions(key)) await this.deleteId(f.id, key);
  }

  private async deleteId(id: string, key: string): Promise<void> {
    try {
      await this.call(() => this.api.files.delete({ fileId: id }));
    } catch (err) {
      const mapped = driveError(err, this.name, key);
      if (mapped.code !== 'NOT_FOUND') throw mapped;
    }
  }
}

/** Bytes Drive has, from a 308's `Range: bytes=0-N` header (none means nothing yet). */
function rangeEnd(headers: unknown): number {
  const h = headers as Headers | Record<string, string>;
  const value = typeof (h as Headers).get === 'function' ? (h as Headers).get('range') : (h as Record<string, string>).range;
  const m = value?.match(/bytes=0-(\d+)/);
  return m ? Number(m[1]) + 1 : 0;
}

