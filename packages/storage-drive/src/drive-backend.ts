import { Readable } from 'node:stream';
import { drive as driveApi, type drive_v3 } from '@googleapis/drive';
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
  /**
   * A metadata request, or a chunk's first byte of answer, that takes longer than this fails
   * (TRANSIENT, retried); a download that receives nothing for this long fails too. Default 120 s.
   * Chunk uploads get this plus one second per 256 KiB of the chunk.
   */
  readonly timeoutMs?: number;
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
    this.timeoutMs = options.timeoutMs ?? 120_000;
    // One retry layer: Coffer's (RetryingBackend, and PutOptions.retry for each chunk), which
    // logs, honours Retry-After and backs off on 403 rateLimitExceeded too. googleapis turns
    // gaxios's retries on for every API call (3 more tries on 429 and 5xx, silently), which would
    // multiply with ours: off.
    this.api = driveApi({ version: 'v3', auth: options.auth, rootUrl: this.rootUrl, retry: false, timeout: this.timeoutMs });
  }
  private readonly timeoutMs: number;

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
        // Every page: Drive may answer an empty first page with a token, and gives the token
        // only to a request whose `fields` names it.
        const folders: drive_v3.Schema$File[] = [];
        let pageToken: string | undefined;
        do {
          const token = pageToken;
          const found = await this.call(() => this.api.files.list({ q, spaces: 'drive', fields: 'nextPageToken, files(id,createdTime)', pageSize: 100, pageToken: token }));
          folders.push(...(found.data.files ?? []));
          pageToken = found.data.nextPageToken ?? undefined;
        } while (pageToken);
        const existing = folders.sort((a, b) => (a.createdTime ?? '').localeCompare(b.createdTime ?? '') || (a.id! < b.id! ? -1 : 1))[0];
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

  /**
   * The versions of `key`: a name search, plus the file this process last wrote under that key.
   * Drive's search is eventually consistent and may not see a file created a moment ago, while
   * files.get by id always does: so a stat or get right after a put finds what it wrote.
   */
  private async knownVersions(key: string, reading = false): Promise<DriveFile[]> {
    let found = await this.versions(key);
    // A read whose name search finds nothing may meet a lagging search (another process wrote
    // the file a moment ago): the folder's listing, by parent, has it.
    if (reading && found.length === 0 && !this.written.has(key)) {
      for await (const f of this.files()) if (f.name === key) found.push(f);
      found = found.sort(newestFirst);
    }
    const mine = this.written.get(key);
    if (mine && !found.some((f) => f.id === mine.id)) {
      try {
        const res = await this.call(() => this.api.files.get({ fileId: mine.id, fields: 'id,name,size,modifiedTime,md5Checksum,sha256Checksum,trashed' }));
        if (!res.data.trashed) found.push(toFile(res.data));
      } catch (err) {
        const mapped = driveError(err, this.name, key);
        if (mapped.code !== 'NOT_FOUND') throw mapped;
        this.written.delete(key); // removed by someone else
      }
    }
    // Newest first; on a timestamp tie (quick writes), what this process wrote last wins.
    return found.sort((a, b) => b.modifiedTime.localeCompare(a.modifiedTime) || (a.id === mine?.id ? -1 : b.id === mine?.id ? 1 : newestFirst(a, b)));
  }

  private async current(key: string): Promise<DriveFile> {
    validateKey(key, this.name);
    const [newest] = await this.knownVersions(key, true);
    if (!newest) throw new StorageError('NOT_FOUND', `${this.name}: no object ${key}`, { backend: this.name, key });
    return newest;
  }

  /** The file this process last wrote under each key (see knownVersions). */
  private readonly written = new Map<string, DriveFile>();

  async put(key: string, body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    validateKey(key, this.name);
    const aborted = () => new StorageError('ABORTED', `upload of ${key} was aborted`, { backend: this.name, key });
    if (options.signal?.aborted) throw aborted();
    const retry: RequestRetry = options.retry ?? ((_operation, request) => request());
    const parent = await retry('start put', () => this.resolveFolder());
    const sessions = { current: await retry('start put', () => this.startSession(key, parent)), start: () => this.startSession(key, parent) };
    let file: DriveFile | undefined;
    try {
      file = await this.upload(sessions, key, body, options, retry);
    } catch (err) {
      // Cancel the session so nothing half-made lingers, then report.
      await this.options.auth.request({ url: sessions.current, method: 'DELETE', retry: false, timeout: this.timeoutMs }).catch(() => {});
      if (options.signal?.aborted) throw aborted();
      throw err;
    }
    // Drive allows duplicate names: remove older files with this key, so one version is visible.
    const uploaded = file;
    for (const old of await retry('list', () => this.knownVersions(key))) if (old.id !== uploaded.id) await retry('delete', () => this.deleteId(old.id, key));
    this.written.set(key, uploaded);
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
        retry: false,
        timeout: this.timeoutMs,
      }));
      const location = (res.headers as unknown as Headers).get?.('location') ?? (res.headers as unknown as Record<string, string>).location;
      if (!location) throw new StorageError('TRANSIENT', `${this.name}: Drive did not return an upload session`, { backend: this.name, key });
      return location;
    } catch (err) {
      throw driveError(err, this.name, key);
    }
  }

  /**
   * Sends the body in chunks; keeps one unconfirmed chunk in memory so it can resume after a
   * failure. Each chunk is one retried request (`retry`): after a failure the next attempt asks
   * Drive how much it kept and sends only the rest. A session Drive forgot (404) is started over
   * while the bytes sent so far are all still held (the first chunk); later, the put fails.
   */
  private async upload(sessions: { current: string; start: () => Promise<string> }, key: string, body: AsyncIterable<Uint8Array>, options: PutOptions, retry: RequestRetry): Promise<DriveFile> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let confirmed = 0; // bytes Drive has acknowledged
    let part = 0;
    const take = (n: number): Buffer => {
      const all = Buffer.concat(pending, pendingBytes);
      const out = all.subarray(0, n);
      pending = [all.subarray(n)];
      pendingBytes -= n;
      return out;
    };
    const send = async (chunk: Buffer, final: boolean): Promise<DriveFile | null> => {
      part += 1;
      const state = { start: confirmed, data: chunk, resync: false };
      return retry(`put part ${part}`, async () => {
        if (options.signal?.aborted) throw new StorageError('ABORTED', `upload of ${key} was aborted`, { backend: this.name, key });
        try {
          return await sendChunk(state, final);
        } catch (err) {
          const mapped = driveError(err, this.name, key);
          if (mapped.code === 'NOT_FOUND') {
            // The session expired (Drive forgets them after about a week, or on its own).
            if (state.start !== 0) {
              throw new StorageError('ABORTED', `${this.name}: Google Drive ended the upload session of ${key} (expired, 404) after part of it was sent; the next run uploads it again`, { backend: this.name, key, cause: err, providerCode: 'sessionExpired', status: 404 });
            }
            sessions.current = await sessions.start();
            state.resync = false;
            throw new StorageError('TRANSIENT', `${this.name}: the upload session of ${key} expired; starting it over`, { backend: this.name, key, cause: err, providerCode: 'sessionExpired', status: 404 });
          }
          state.resync = true;
          throw mapped;
        }
      });
    };
    const sendChunk = async (state: { start: number; data: Buffer; resync: boolean }, final: boolean): Promise<DriveFile | null> => {
      const session = sessions.current;
      if (state.resync) {
        // Resume: Drive says how much of the upload it already has; send only the rest.
        const status = await this.queryStatus(session, final ? String(state.start + state.data.length) : '*');
        if (status.done) return status.done;
        state.data = state.data.subarray(Math.max(0, status.received - state.start));
        state.start = confirmed = status.received;
        state.resync = false;
      }
      for (;;) {
        if (!final) {
          // Non-final requests must be whole 256 KiB units: an unaligned tail (after Drive kept
          // part of a chunk) goes back in front of the data still to come.
          const aligned = state.data.length - (state.data.length % QUANTUM);
          if (aligned < state.data.length) {
            pending.unshift(state.data.subarray(aligned));
            pendingBytes += state.data.length - aligned;
            state.data = state.data.subarray(0, aligned);
          }
          if (state.data.length === 0) return null;
        }
        const { start, data } = state;
        const total = final ? String(start + data.length) : '*';
        const range = data.length === 0 ? `bytes */${total}` : `bytes ${start}-${start + data.length - 1}/${total}`;
        const res = await this.call(() =>
          this.options.auth.request<drive_v3.Schema$File>({
            url: session,
            method: 'PUT',
            headers: { 'content-range': range, 'content-type': 'application/octet-stream' },
            data,
            validateStatus: (st) => st === 308 || (st >= 200 && st < 300),
            retry: false,
            timeout: this.timeoutMs + Math.ceil(data.length / 256),
          }),
        );
        if (res.status !== 308) {
          options.onProgress?.(start + data.length);
          return toFile(res.data);
        }
        // Drive may keep less than was sent (a 308 with a shorter Range): send the rest next.
        const acknowledged = rangeEnd(res.headers);
        const kept = acknowledged - start;
        confirmed = acknowledged;
        options.onProgress?.(confirmed);
        if (kept >= data.length) return null;
        state.start = confirmed;
        state.data = data.subarray(Math.max(0, kept));
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

  /** How much of the upload Drive has; errors are the caller's to map (a 404: the session expired). */
  private async queryStatus(session: string, total: string): Promise<{ received: number; done?: DriveFile }> {
    const res = await this.call(() =>
      this.options.auth.request<drive_v3.Schema$File>({
        url: session,
        method: 'PUT',
        headers: { 'content-range': `bytes */${total}` },
        validateStatus: (st) => st === 308 || (st >= 200 && st < 300),
        retry: false,
        timeout: this.timeoutMs,
      }),
    );
    if (res.status !== 308) return { received: Number(res.data.size ?? 0), done: toFile(res.data) };
    return { received: rangeEnd(res.headers) };
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
      // No whole-request timeout on a download (it may take hours): the answer must start within
      // the timeout, and then bytes must keep coming (verifyLength's idle check).
      const res = await this.call(async () => {
        const started = new AbortController();
        const timer = setTimeout(() => started.abort(new StorageError('TRANSIENT', `${this.name}: no answer within ${this.timeoutMs / 1000} s`, { backend: this.name, key, providerCode: 'timeout' })), this.timeoutMs);
        try {
          const signal = options.signal ? AbortSignal.any([options.signal, started.signal]) : started.signal;
          return await this.api.files.get({ fileId: file.id, alt: 'media' }, { responseType: 'stream', headers, signal, timeout: 0 });
        } catch (err) {
          throw started.signal.aborted ? started.signal.reason : err;
        } finally {
          clearTimeout(timer);
        }
      });
      return verifyLength(res.data as unknown as Readable, expected, this.name, key, (err) => driveError(err, this.name, key), this.timeoutMs);
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
    for (const f of await this.knownVersions(key, true)) await this.deleteId(f.id, key);
    this.written.delete(key);
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

