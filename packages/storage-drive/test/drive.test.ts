import { auth } from '@googleapis/drive';
import { chunks, FakeDrive, LENIENT, readAll, runStorageConformance, type DriveStrictness } from '@coffer/storage-testkit';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RetryingBackend, type RetryPolicy } from '@coffer/storage';
import { DriveBackend } from '../src/index.js';

// One fake per suite; msw routes the real Google hosts to it in this process.
const fake = new FakeDrive();
const msw = setupServer(...fake.handlers());
beforeAll(() => msw.listen({ onUnhandledRequest: 'error' }));
afterAll(() => msw.close());

const oauth = () => {
  const client = new auth.OAuth2({ clientId: 'fake-client', clientSecret: 'fake-secret', });
  client.setCredentials({ refresh_token: 'fake-refresh-token' });
  return client;
};
let folderNo = 0;
// Wrapped as the app wraps it: Coffer's retry layer is the only one (the SDK's is off).
const backend = (extra: Partial<ConstructorParameters<typeof DriveBackend>[0]> = {}, retry: Partial<RetryPolicy> = {}) =>
  new RetryingBackend(new DriveBackend({ auth: oauth(), folder: `coffer-test-${++folderNo}`, chunkSize: 512 * 1024, ...extra }), { baseDelayMs: 1, maxDelayMs: 5, ...retry });

runStorageConformance('drive (fake Drive API through msw)', {
  create: async ({ pageSize }) => backend({ pageSize }),
  boundedMemory: false, // the fake keeps every object in this process's memory
  largeObjectMiB: 48,
});

// The same suite with each of Drive's allowed behaviours switched on (FACTS.md, "Drive v3
// behaviours"): the backend must not depend on Drive being kind.
const strictVariants: [string, Partial<DriveStrictness>][] = [
  ['list pages empty or short before the end', { shortPages: true }],
  ['a resumable PUT keeps fewer bytes than sent (308, shorter Range)', { partialChunks: true }],
  ['completion answered 201', { created201: true }],
  ['upload sessions that expire (404, start over)', { expireSessions: true }],
  ['timestamp ties between quick writes', { timestampTies: true }],
  ['a name search lagging a create', { searchLagMs: 60_000 }],
];
for (const [label, strict] of strictVariants) {
  describe(`Drive strict: ${label}`, () => {
    beforeAll(() => void (fake.strict = { ...LENIENT, ...strict }));
    afterAll(() => void (fake.strict = { ...LENIENT }));
    runStorageConformance(`drive, ${label}`, { create: async ({ pageSize }) => backend({ pageSize }), boundedMemory: false, largeObjectMiB: 4 });
  });
}

const data = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));
const uploads = () => fake.requests.filter((r) => r.path === '/upload/drive/v3/files');

describe('Drive specifics', () => {
  it('uses the hidden appDataFolder by default', async () => {
    const b = new DriveBackend({ auth: oauth(), chunkSize: 256 * 1024 });
    await b.put('hidden/x', chunks(data(1000)));
    const file = [...fake.files.values()].find((f) => f.name === 'hidden/x')!;
    expect(file.parents).toEqual(['appDataFolder']);
    expect(file.space).toBe('appDataFolder');
    expect(file.appProperties).toEqual({ coffer: '1' });
  });

  it('uploads large files in 256 KiB-multiple chunks with the resumable protocol', async () => {
    const b = backend();
    const before = uploads().length;
    await b.put('big', chunks(data(3 * 512 * 1024 + 5)));
    const used = uploads().slice(before);
    expect(used.filter((r) => r.status === 308)).toHaveLength(3);
    expect(used.at(-1)!.status).toBe(200);
  });

  for (const [status, reason] of [[403, 'rateLimitExceeded'], [403, 'userRateLimitExceeded'], [429, 'rateLimitExceeded'], [500, 'backendError'], [503, 'backendError']] as const) {
    it(`backs off and resumes after ${status} ${reason} on a chunk`, async () => {
      const b = backend();
      fake.inject({ match: ({ method, url }) => method === 'PUT' && url.pathname.startsWith('/upload'), times: 2, status, reason });
      const body = data(2 * 512 * 1024 + 100, status);
      await b.put('retry', chunks(body));
      expect((await readAll(await b.get('retry'))).equals(body)).toBe(true);
    });
  }

  it('resumes a chunk cut off midway from what Drive kept, without starting over', async () => {
    const b = backend();
    const body = data(4 * 512 * 1024, 9);
    let sentBytes = 0;
    fake.inject({ match: ({ method, url }) => method === 'PUT' && url.pathname.startsWith('/upload'), times: 1, status: 503, reason: 'backendError', keepBytes: 300 * 1024 });
    const progress: number[] = [];
    await b.put('cut', chunks(body), { onProgress: (n) => progress.push((sentBytes = n)) });
    expect(sentBytes).toBe(body.length);
    expect((await readAll(await b.get('cut'))).equals(body)).toBe(true);
    // Progress never went backwards: the upload resumed, it did not restart.
    expect(progress).toEqual([...progress].sort((a, b2) => a - b2));
  });

  it('fails with RATE_LIMITED after bounded attempts when the rate limit persists', async () => {
    const b = backend({}, { maxAttempts: 3 });
    fake.inject({ match: ({ method, url }) => method === 'PUT' && url.pathname.startsWith('/upload'), times: 3, status: 403, reason: 'userRateLimitExceeded' });
    await expect(b.put('limited', chunks(data(600 * 1024)))).rejects.toMatchObject({ code: 'RATE_LIMITED', isRetryable: true });
    const keys: string[] = [];
    for await (const i of b.list('limited')) keys.push(i.key);
    expect(keys).toEqual([]);
  });

  it('a storage quota error is permanent', async () => {
    const b = backend();
    fake.inject({ match: ({ method, url }) => method === 'POST' && url.pathname.startsWith('/upload'), times: 1, status: 403, reason: 'storageQuotaExceeded' });
    await expect(b.put('full', chunks(data(10)))).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', isRetryable: false });
  });

  it('401 refreshes the token once; a revoked grant is a clear authentication error', async () => {
    const b = backend();
    await b.put('auth', chunks(data(10)));
    const refreshes = fake.tokenRefreshes;
    fake.expireAccessTokens();
    expect((await b.stat('auth')).size).toBe(10);
    expect(fake.tokenRefreshes).toBe(refreshes + 1);
    const c = backend();
    fake.revoke();
    try {
      await expect(c.put('x', chunks(data(10)))).rejects.toMatchObject({ code: 'UNAUTHENTICATED', isRetryable: false, message: expect.stringContaining('Google refused the credentials') });
    } finally {
      (fake as unknown as { refreshTokens: Set<string> }).refreshTokens.add('fake-refresh-token');
    }
  });

  it('resolves duplicate names deterministically and never leaves two versions after a put', async () => {
    const b = backend();
    await b.put('dup', chunks(data(10, 1)));
    // Another client created a second file with the same name (Drive allows it).
    const original = [...fake.files.values()].find((f) => f.name === 'dup' && f.parents[0] !== 'appDataFolder')!;
    const twin = { ...original, id: `${original.id}-twin`, data: data(20, 2), modifiedTime: new Date(Date.now() + 60_000).toISOString() };
    fake.files.set(twin.id, twin);
    expect((await b.stat('dup')).size).toBe(20); // the newest wins
    const listed: string[] = [];
    for await (const i of b.list('dup')) listed.push(i.key);
    expect(listed).toEqual(['dup']);
    await b.put('dup', chunks(data(30, 3)));
    expect([...fake.files.values()].filter((f) => f.name === 'dup' && f.parents.includes(original.parents[0]!))).toHaveLength(1);
    expect((await readAll(await b.get('dup'))).equals(data(30, 3))).toBe(true);
  });

  it('finds its folder again when Drive answers with empty and short pages', async () => {
    const name = `paged-folder-${Date.now()}`;
    fake.strict = { ...LENIENT, shortPages: true };
    try {
      await new DriveBackend({ auth: oauth(), folder: name }).put('a', chunks(data(1)));
      await new DriveBackend({ auth: oauth(), folder: name }).put('b', chunks(data(1)));
      expect([...fake.files.values()].filter((f) => f.name === name && f.mimeType === 'application/vnd.google-apps.folder')).toHaveLength(1);
    } finally {
      fake.strict = { ...LENIENT };
    }
  });

  it("keys and folder names with ' and ' and quotes in them are queried exactly", async () => {
    const b = new DriveBackend({ auth: oauth(), folder: `tom and jerry's ${Date.now()}` });
    const key = "chats and media/it's a and b.bin";
    await b.put(key, chunks(data(100, 4)));
    await b.put("chats and media/it's a", chunks(data(10, 5)));
    expect((await b.stat(key)).size).toBe(100);
    expect((await readAll(await b.get(key))).equals(data(100, 4))).toBe(true);
    await b.delete(key);
    await expect(b.stat(key)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await b.stat("chats and media/it's a")).size).toBe(10);
  });

  it('creates a named folder once and finds it again', async () => {
    const name = `shared-folder-${Date.now()}`;
    await new DriveBackend({ auth: oauth(), folder: name }).put('a', chunks(data(1)));
    await new DriveBackend({ auth: oauth(), folder: name }).put('b', chunks(data(1)));
    expect([...fake.files.values()].filter((f) => f.name === name && f.mimeType === 'application/vnd.google-apps.folder')).toHaveLength(1);
  });
});
