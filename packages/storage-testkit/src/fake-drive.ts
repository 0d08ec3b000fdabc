import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { http, type RequestHandler } from 'msw';

export const DRIVE_ROOT = 'https://www.googleapis.com';
export const TOKEN_URL = 'https://oauth2.googleapis.com/token';

interface FakeFile {
  id: string;
  name: string;
  mimeType: string;
  parents: string[];
  space: 'drive' | 'appDataFolder';
  appProperties: Record<string, string>;
  data: Buffer;
  createdTime: string;
  modifiedTime: string;
  trashed: boolean;
}

interface Session {
  meta: { name: string; parents: string[]; appProperties: Record<string, string>; mimeType?: string };
  received: Buffer[];
  size: number;
  fields?: string;
  /** Gone by its first chunk (DriveStrictness.expireSessions). */
  expiring?: boolean;
}

export interface DriveFault {
  /** Which requests to fail; `times` of them. */
  match: (req: { method: string; url: URL }) => boolean;
  times: number;
  status: number;
  /** Drive's error reason, e.g. rateLimitExceeded, userRateLimitExceeded, backendError. */
  reason?: string;
  retryAfter?: number;
  /** Accept this many bytes of a chunk, then fail (a cut-off upload). */
  keepBytes?: number;
  /** Say nothing for this many ms (a stalled socket), then answer with `status`. */
  stallMs?: number;
}

/**
 * Behaviours of the real Drive v3 that the docs allow and a client must survive, each a switch
 * (all off by default, so a test turns on the ones it is about; the Drive backend's conformance
 * suite runs once with each on).
 */
export interface DriveStrictness {
  /** List pages come back empty, or shorter than pageSize, before the end (with a nextPageToken). */
  shortPages: boolean;
  /** A resumable PUT keeps only part of what was sent: 308 with a shorter Range (whole 256 KiB units). */
  partialChunks: boolean;
  /** The finished upload is answered 201 Created instead of 200 OK. */
  created201: boolean;
  /** Every other upload session has expired by its first chunk: 404, start over. */
  expireSessions: boolean;
  /** Quick writes share a modifiedTime (whole seconds). */
  timestampTies: boolean;
  /** A search by name does not see files created less than this many ms ago (0: off). */
  searchLagMs: number;
}

export const LENIENT: DriveStrictness = { shortPages: false, partialChunks: false, created201: false, expireSessions: false, timestampTies: false, searchLagMs: 0 };

/**
 * The API surface the fake serves: each Drive method, its HTTP route, and the parameters it reads.
 * A test checks these against the discovery-generated @googleapis/drive code, so the fake cannot
 * drift from Drive; the fake answers 400 to any other parameter (Drive rejects unknown ones).
 */
export const FAKE_DRIVE_API = [
  { method: 'files.list', params: 'Params$Resource$Files$List', http: 'GET', path: '/drive/v3/files', query: ['q', 'spaces', 'fields', 'pageSize', 'pageToken'] },
  { method: 'files.get', params: 'Params$Resource$Files$Get', http: 'GET', path: '/drive/v3/files/{fileId}', query: ['fileId', 'alt', 'fields'] },
  { method: 'files.create', params: 'Params$Resource$Files$Create', http: 'POST', path: '/drive/v3/files', upload: '/upload/drive/v3/files', query: ['uploadType', 'fields'] },
  { method: 'files.delete', params: 'Params$Resource$Files$Delete', http: 'DELETE', path: '/drive/v3/files/{fileId}', query: ['fileId'] },
] as const;

/** Parameters every Google API accepts (StandardParameters in the generated code). */
export const STANDARD_PARAMS = ['$.xgafv', 'access_token', 'alt', 'callback', 'fields', 'key', 'oauth_token', 'prettyPrint', 'quotaUser', 'uploadType', 'upload_protocol'] as const;

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=UTF-8', ...headers } });

/** Drive's real error body shape. */
export function driveErrorBody(status: number, reason: string, message = reason) {
  const domain = /RateLimit|quota|Limit/.test(reason) ? 'usageLimits' : 'global';
  return { error: { errors: [{ domain, reason, message }], code: status, message } };
}

/**
 * An in-memory model of the Drive v3 subset Coffer uses: files.create (multipart and resumable,
 * with 308 Resume Incomplete and status queries), files.list (q, spaces, fields, pageSize,
 * pageToken), files.get (metadata, alt=media with Range), files.delete, and the OAuth token
 * endpoint. Bearer tokens are checked; faults can be injected. Serve it through msw (`handlers`)
 * or on loopback (`listen`).
 */
export class FakeDrive {
  readonly files = new Map<string, FakeFile>();
  private readonly sessions = new Map<string, Session>();
  private readonly validTokens = new Set<string>();
  private refreshTokens = new Set<string>(['fake-refresh-token']);
  readonly faults: DriveFault[] = [];
  readonly requests: { method: string; path: string; status: number }[] = [];
  /** The base URL this fake answers on (msw: the real Google host; listen(): loopback). */
  root = DRIVE_ROOT;
  tokenRefreshes = 0;
  /** Which of Drive's allowed behaviours are on; may change at any time. */
  strict: DriveStrictness;
  private sessionsStarted = 0;
  private server?: Server;

  constructor(options: { pageSizeCap?: number; strict?: Partial<DriveStrictness> } = {}) {
    this.pageSizeCap = options.pageSizeCap ?? 1000;
    this.strict = { ...LENIENT, ...options.strict };
    this.validTokens.add('fake-access-token');
  }
  private readonly pageSizeCap: number;

  /** Drops every upload session in progress, as Drive does when one expires. */
  expireAllSessions(): void {
    this.sessions.clear();
  }

  /** Invalidates every access token (they "expire"); a refresh gets a new one. */
  expireAccessTokens(): void {
    this.validTokens.clear();
  }

  /** Revokes the refresh token too: the credentials are dead until the user re-authorizes. */
  revoke(): void {
    this.validTokens.clear();
    this.refreshTokens.clear();
  }

  inject(fault: DriveFault): void {
    this.faults.push(fault);
  }

  /** msw handlers for the real Google hosts. */
  handlers(): RequestHandler[] {
    return [http.all(`${DRIVE_ROOT}/*`, ({ request }) => this.handle(request)), http.post(TOKEN_URL, ({ request }) => this.token(request))];
  }

  /** Serves the same API on 127.0.0.1, for child processes (the CLI). Returns the root URL. */
  async listen(): Promise<string> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = chunks.length ? Buffer.concat(chunks) : undefined;
      const request = new Request(`${this.root}${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body });
      const response = req.url?.startsWith('/token') ? await this.token(request) : await this.handle(request);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.root = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this.root;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((r) => this.server!.close(r));
  }

  /** The code the fake "consent screen" hands out, and the PKCE challenge it was asked for. */
  readonly authorizationCode = 'fake-authorization-code';
  lastCodeChallenge: string | undefined;

  async token(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text());
    if (form.get('grant_type') === 'authorization_code') {
      const verifier = form.get('code_verifier') ?? '';
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      if (form.get('code') !== this.authorizationCode || challenge !== this.lastCodeChallenge) {
        return json(400, { error: 'invalid_grant', error_description: 'Malformed auth code or PKCE verifier.' });
      }
      this.refreshTokens.add('fake-refresh-token');
      return json(200, { access_token: 'fake-access-token', refresh_token: 'fake-refresh-token', expires_in: 3599, token_type: 'Bearer' });
    }
    if (form.get('grant_type') !== 'refresh_token' || !this.refreshTokens.has(form.get('refresh_token') ?? '')) {
      return json(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    }
    this.tokenRefreshes += 1;
    const token = `fake-access-${randomBytes(6).toString('hex')}`;
    this.validTokens.add(token);
    return json(200, { access_token: token, expires_in: 3599, token_type: 'Bearer', scope: 'https://www.googleapis.com/auth/drive.appdata' });
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const response = await this.route(request, url);
    this.requests.push({ method: request.method, path: url.pathname, status: response.status });
    return response;
  }

  private fault(method: string, url: URL): DriveFault | undefined {
    const f = this.faults.find((x) => x.times > 0 && x.match({ method, url }));
    if (f) f.times -= 1;
    return f;
  }

  private async route(request: Request, url: URL): Promise<Response> {
    const auth = request.headers.get('authorization') ?? '';
    if (!this.validTokens.has(auth.replace(/^Bearer /, ''))) {
      return json(401, { error: { errors: [{ domain: 'global', reason: 'authError', message: 'Invalid Credentials', locationType: 'header', location: 'Authorization' }], code: 401, message: 'Invalid Credentials' } });
    }
    const fault = this.fault(request.method, url);
    if (fault?.stallMs) await new Promise((r) => setTimeout(r, fault.stallMs).unref());
    if (fault && fault.keepBytes === undefined) {
      return json(fault.status, driveErrorBody(fault.status, fault.reason ?? 'backendError'), fault.retryAfter ? { 'retry-after': String(fault.retryAfter) } : {});
    }
    const path = url.pathname;
    const unknown = this.unknownParam(request.method, path, url);
    if (unknown) return json(400, driveErrorBody(400, 'invalidParameter', `Invalid parameter: ${unknown}`));
    if (path === '/upload/drive/v3/files' && request.method === 'POST') {
      const type = url.searchParams.get('uploadType');
      if (type === 'resumable') return this.startSession(request, url);
      if (type === 'multipart') return this.multipart(request, url);
      return json(400, driveErrorBody(400, 'badRequest', `unsupported uploadType ${type}`));
    }
    if (path === '/upload/drive/v3/files' && request.method === 'PUT') return this.chunk(request, url, fault);
    if (path === '/upload/drive/v3/files' && request.method === 'DELETE') {
      this.sessions.delete(url.searchParams.get('upload_id') ?? '');
      return new Response(null, { status: 499 });
    }
    if (path === '/drive/v3/files' && request.method === 'GET') return this.list(url);
    if (path === '/drive/v3/files' && request.method === 'POST') {
      const meta = (await request.json()) as Session['meta'];
      return json(200, this.shape(this.create(meta, Buffer.alloc(0)), url.searchParams.get('fields')));
    }
    const m = path.match(/^\/drive\/v3\/files\/([^/]+)$/);
    if (m) {
      const file = this.files.get(m[1]!);
      if (!file || file.trashed) return json(404, driveErrorBody(404, 'notFound', `File not found: ${m[1]}.`));
      if (request.method === 'DELETE') {
        this.files.delete(file.id);
        return new Response(null, { status: 204 });
      }
      if (request.method === 'GET' && url.searchParams.get('alt') === 'media') return this.media(request, file);
      if (request.method === 'GET') return json(200, this.shape(file, url.searchParams.get('fields')));
    }
    return json(404, driveErrorBody(404, 'notFound', `no route ${request.method} ${path}`));
  }

  /** A query parameter the route does not take (the session's upload_id aside), if any. */
  private unknownParam(method: string, path: string, url: URL): string | undefined {
    const route = FAKE_DRIVE_API.find((r) => {
      const pattern = new RegExp(`^${r.path.replace('{fileId}', '[^/]+')}$`);
      return (r.http === method && pattern.test(path)) || ('upload' in r && r.upload === path);
    });
    if (!route) return undefined;
    const allowed = new Set<string>([...route.query, ...STANDARD_PARAMS, 'upload_id']);
    return [...url.searchParams.keys()].find((k) => !allowed.has(k));
  }

  private create(meta: Session['meta'], data: Buffer): FakeFile {
    // Strictly increasing unless ties are on: then whole seconds, as quick writes can share.
    const now = this.strict.timestampTies ? new Date(Math.floor(Date.now() / 1000) * 1000).toISOString() : new Date(Date.now() + this.files.size).toISOString();
    const parents = meta.parents?.length ? meta.parents : ['root'];
    const file: FakeFile = {
      id: randomBytes(12).toString('base64url'),
      name: meta.name,
      mimeType: meta.mimeType ?? 'application/octet-stream',
      parents,
      space: parents.includes('appDataFolder') ? 'appDataFolder' : 'drive',
      appProperties: meta.appProperties ?? {},
      data,
      createdTime: now,
      modifiedTime: now,
      trashed: false,
    };
    this.files.set(file.id, file);
    this.createdAt.set(file.id, Date.now());
    return file;
  }
  private readonly createdAt = new Map<string, number>();

  private shape(file: FakeFile, fields: string | null) {
    const all: Record<string, unknown> = {
      kind: 'drive#file',
      id: file.id,
      name: file.name,
      mimeType: file.mimeType,
      parents: file.parents,
      appProperties: file.appProperties,
      size: String(file.data.length),
      md5Checksum: createHash('md5').update(file.data).digest('hex'),
      sha256Checksum: createHash('sha256').update(file.data).digest('hex'),
      createdTime: file.createdTime,
      modifiedTime: file.modifiedTime,
    };
    if (!fields) return { kind: all.kind, id: all.id, name: all.name, mimeType: all.mimeType };
    const wanted = fields.replace(/^files\(|\)$/g, '').split(',').map((f) => f.trim());
    return Object.fromEntries(Object.entries(all).filter(([k]) => wanted.includes(k) || k === 'kind'));
  }

  private async startSession(request: Request, url: URL): Promise<Response> {
    const meta = (await request.json()) as Session['meta'];
    const id = randomBytes(16).toString('hex');
    this.sessionsStarted += 1;
    const expiring = this.strict.expireSessions && this.sessionsStarted % 2 === 1;
    this.sessions.set(id, { meta, received: [], size: 0, fields: url.searchParams.get('fields') ?? undefined, expiring });
    return new Response(null, { status: 200, headers: { location: `${this.root}/upload/drive/v3/files?uploadType=resumable&upload_id=${id}` } });
  }

  private async chunk(request: Request, url: URL, fault: DriveFault | undefined): Promise<Response> {
    const session = this.sessions.get(url.searchParams.get('upload_id') ?? '');
    if (session?.expiring) this.sessions.delete(url.searchParams.get('upload_id') ?? '');
    if (!session || session.expiring) return json(404, driveErrorBody(404, 'notFound', 'upload session not found'));
    const range = request.headers.get('content-range') ?? '';
    const body = Buffer.from(await request.arrayBuffer());
    const status = () => new Response(null, { status: 308, headers: session.size > 0 ? { range: `bytes=0-${session.size - 1}` } : {} });
    const query = range.match(/^bytes \*\/(\d+|\*)$/);
    if (query) {
      if (query[1] !== '*' && Number(query[1]) === session.size) return this.finish(url, session);
      return status();
    }
    const m = range.match(/^bytes (\d+)-(\d+)\/(\d+|\*)$/);
    if (!m) return json(400, driveErrorBody(400, 'badContentRange', `bad Content-Range ${range}`));
    const [start, end, total] = [Number(m[1]), Number(m[2]), m[3] === '*' ? undefined : Number(m[3])];
    if (end - start + 1 !== body.length) return json(400, driveErrorBody(400, 'badContentRange', 'length mismatch'));
    if (total === undefined && body.length % (256 * 1024) !== 0) return json(400, driveErrorBody(400, 'badContentRange', 'chunks must be multiples of 256 KiB'));
    if (start > session.size) return json(400, driveErrorBody(400, 'badContentRange', `gap: have ${session.size}, got ${start}`));
    const fresh = body.subarray(session.size - start);
    if (fault?.keepBytes !== undefined) {
      // A connection cut off midway: Drive kept part of the chunk (whole 256 KiB units, as Drive
      // persists them) and the client saw an error.
      const keep = Math.min(fault.keepBytes - (fault.keepBytes % (256 * 1024)), fresh.length);
      const kept = fresh.subarray(0, keep);
      session.received.push(kept);
      session.size += kept.length;
      return json(fault.status, driveErrorBody(fault.status, fault.reason ?? 'backendError'));
    }
    // Drive may persist less than it was sent (whole 256 KiB units) and say so with a 308.
    const QUANTUM = 256 * 1024;
    const partial = this.strict.partialChunks && fresh.length >= 2 * QUANTUM;
    const kept = partial ? fresh.subarray(0, Math.floor(fresh.length / 2 / QUANTUM) * QUANTUM) : fresh;
    session.received.push(kept);
    session.size += kept.length;
    if (total !== undefined && session.size === total) return this.finish(url, session);
    return status();
  }

  private finish(url: URL, session: Session): Response {
    this.sessions.delete(url.searchParams.get('upload_id') ?? '');
    const file = this.create(session.meta, Buffer.concat(session.received));
    return json(this.strict.created201 ? 201 : 200, this.shape(file, session.fields ?? null));
  }

  private async multipart(request: Request, url: URL): Promise<Response> {
    const type = request.headers.get('content-type') ?? '';
    const boundary = type.match(/boundary=([^;]+)/)?.[1]?.replace(/"/g, '');
    if (!boundary) return json(400, driveErrorBody(400, 'badRequest', 'missing multipart boundary'));
    const raw = Buffer.from(await request.arrayBuffer());
    const parts = raw.toString('latin1').split(`--${boundary}`).slice(1, -1);
    const bodyOf = (p: string) => Buffer.from(p.slice(p.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, ''), 'latin1');
    const meta = JSON.parse(bodyOf(parts[0]!).toString('utf8')) as Session['meta'];
    const file = this.create(meta, parts[1] ? bodyOf(parts[1]) : Buffer.alloc(0));
    return json(200, this.shape(file, url.searchParams.get('fields')));
  }

  private list(url: URL): Response {
    const q = url.searchParams.get('q') ?? '';
    const spaces = (url.searchParams.get('spaces') ?? 'drive').split(',');
    const clauses = splitQuery(q);
    if (clauses === null) return json(400, driveErrorBody(400, 'invalid', 'Invalid Value: q (unterminated string)'));
    const tests: ((f: FakeFile) => boolean)[] = [];
    let byName = false;
    for (const clause of clauses) {
      let m;
      const unquote = (s: string) => s.replace(/\\(.)/g, '$1');
      if ((m = clause.match(/^'((?:[^'\\]|\\.)*)' in parents$/))) {
        const id = unquote(m[1]!);
        tests.push((f) => f.parents.includes(id));
      } else if ((m = clause.match(/^trashed\s*=\s*(true|false)$/))) {
        const want = m[1] === 'true';
        tests.push((f) => f.trashed === want);
      } else if ((m = clause.match(/^(name|mimeType)\s*=\s*'((?:[^'\\]|\\.)*)'$/))) {
        const [field, value] = [m[1] as 'name' | 'mimeType', unquote(m[2]!)];
        if (field === 'name') byName = true;
        tests.push((f) => f[field] === value);
      } else {
        return json(400, driveErrorBody(400, 'invalid', `Invalid Value: q (${clause})`));
      }
    }
    // Search is eventually consistent: a name search may not see a file created just now.
    const lag = byName ? this.strict.searchLagMs : 0;
    // (Folders are found at once in this model: the lag is about the files a client writes.)
    const visible = (f: FakeFile) => lag === 0 || f.mimeType === 'application/vnd.google-apps.folder' || Date.now() - (this.createdAt.get(f.id) ?? 0) >= lag;
    const matching = [...this.files.values()].filter((f) => spaces.includes(f.space) && tests.every((t) => t(f)) && visible(f)).sort((a, b) => (a.id < b.id ? -1 : 1));
    const pageSize = Math.min(Number(url.searchParams.get('pageSize') ?? 100), this.pageSizeCap);
    const token = url.searchParams.get('pageToken') ?? '';
    const fields = url.searchParams.get('fields');
    // Drive returns nextPageToken only when `fields` asks for it (or when there is no `fields`).
    const tokenWanted = fields === null || /(^|[\s,])nextPageToken([\s,]|$)/.test(fields);
    const fileFields = fields?.match(/files\(([^)]*)\)/)?.[1] ?? null;
    const answer = (files: FakeFile[], next: string | undefined) =>
      json(200, { kind: 'drive#fileList', files: files.map((f) => this.shape(f, fileFields)), ...(next && tokenWanted ? { nextPageToken: next } : {}) });
    if (this.strict.shortPages) {
      // Alternately an empty page and a half-size one, each with a token, until the end.
      if (!token.startsWith('s')) {
        const offset = Number(token || 0);
        return answer([], offset < matching.length || offset === 0 ? `s${offset}` : undefined);
      }
      const offset = Number(token.slice(1));
      const size = Math.max(1, Math.floor(pageSize / 2));
      return answer(matching.slice(offset, offset + size), offset + size < matching.length ? String(offset + size) : undefined);
    }
    const offset = Number(token || 0);
    return answer(matching.slice(offset, offset + pageSize), offset + pageSize < matching.length ? String(offset + pageSize) : undefined);
  }

  private media(request: Request, file: FakeFile): Response {
    const range = request.headers.get('range')?.match(/^bytes=(\d+)-(\d*)$/);
    if (!range) return new Response(file.data, { status: 200, headers: { 'content-type': 'application/octet-stream', 'content-length': String(file.data.length) } });
    const start = Number(range[1]);
    const end = range[2] ? Math.min(Number(range[2]), file.data.length - 1) : file.data.length - 1;
    if (start >= file.data.length) return json(416, driveErrorBody(416, 'requestedRangeNotSatisfiable'));
    const slice = file.data.subarray(start, end + 1);
    return new Response(slice, { status: 206, headers: { 'content-range': `bytes ${start}-${end}/${file.data.length}`, 'content-length': String(slice.length) } });
  }
}

/** A credentials file for the fake: an OAuth client with the fake's refresh token. */
export const FAKE_DRIVE_CREDENTIALS = {
  type: 'authorized_user',
  client_id: 'fake-client.apps.googleusercontent.com',
  client_secret: 'fake-client-secret',
  refresh_token: 'fake-refresh-token',
};

/** Splits a Drive query on `and` outside quoted strings; null if a string is unterminated. */
export function splitQuery(q: string): string[] | null {
  const clauses: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < q.length; i++) {
    const c = q[i]!;
    if (quoted && c === '\\') {
      current += c + (q[i + 1] ?? '');
      i += 1;
      continue;
    }
    if (c === "'") quoted = !quoted;
    if (!quoted && /\s/.test(c) && /^\s+and\s+/i.test(q.slice(i))) {
      clauses.push(current.trim());
      current = '';
      i += q.slice(i).match(/^\s+and\s+/i)![0].length - 1;
      continue;
    }
    current += c;
  }
  if (quoted) return null;
  if (current.trim()) clauses.push(current.trim());
  return clauses;
}
