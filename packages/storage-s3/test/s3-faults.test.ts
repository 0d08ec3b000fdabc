import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { chunks, readAll } from '@coffer/storage-testkit';
import { RetryingBackend, StorageError } from '@coffer/storage';
import { http, HttpResponse, passthrough } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { S3Backend } from '../src/index.js';
import { ResetProxy, startMoto, TEST_CREDENTIALS, type S3Server } from '@coffer/storage-testkit';

const MIB = 1024 * 1024;
let moto: S3Server;
const msw = setupServer();
let n = 0;

beforeAll(async () => {
  moto = await startMoto();
  msw.listen({ onUnhandledRequest: 'bypass' });
});
afterEach(() => msw.resetHandlers());
afterAll(async () => {
  msw.close();
  await moto.stop();
});

const bare = () =>
  new S3Backend({
    bucket: moto.bucket,
    prefix: `faults-${++n}/`,
    endpoint: moto.endpoint,
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
    partSize: 5 * MIB,
    // Under msw the SDK would wait 6 s per large request for `Expect: 100-continue`.
    clientConfig: { expectContinueHeader: false },
  });
/** As the app wraps it: Coffer's retry layer is the only one (the SDK's maxAttempts is 1). */
const backend = (maxAttempts = 8) => {
  const inner = bare();
  return Object.assign(new RetryingBackend(inner, { maxAttempts, baseDelayMs: 1, maxDelayMs: 5 }), { client: inner.client });
};

const xmlError = (status: number, code: string, headers: Record<string, string> = {}) =>
  new HttpResponse(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`, {
    status,
    headers: { 'content-type': 'application/xml', ...headers },
  });

/** Injects `respond` for the first `times` requests matching `match`; everything else reaches moto. */
function inject(match: (url: URL, method: string) => boolean, times: number, respond: () => Response) {
  let count = 0;
  msw.use(
    http.all(`${moto.endpoint}/*`, ({ request }) => {
      const url = new URL(request.url);
      if (count < times && match(url, request.method)) {
        count += 1;
        return respond();
      }
      return passthrough();
    }),
  );
  return () => count;
}

const isUploadPart = (url: URL, method: string) => method === 'PUT' && url.searchParams.has('partNumber');
const isPut = (url: URL, method: string) => method === 'PUT' && !url.searchParams.has('partNumber') && url.pathname.split('/').length > 2;
const data = (size: number) => Buffer.alloc(size, 7);

async function noLeftovers(b: { list: S3Backend['list']; client: S3Backend['client'] }, prefix: string) {
  const keys: string[] = [];
  for await (const info of b.list('')) keys.push(info.key);
  expect(keys).toEqual([]);
  const uploads = await b.client.send(new ListMultipartUploadsCommand({ Bucket: moto.bucket, Prefix: prefix }));
  expect(uploads.Uploads ?? []).toEqual([]);
}

describe('S3 fault injection (msw in front of moto_server)', () => {
  it('503 SlowDown on parts is retried and the upload completes', async () => {
    const b = backend();
    const hits = inject(isUploadPart, 2, () => xmlError(503, 'SlowDown', { 'retry-after': '0' }));
    const body = data(12 * MIB);
    const r = await b.put('x', chunks(body));
    expect(hits()).toBe(2);
    expect(r.size).toBe(body.length);
    expect((await readAll(await b.get('x'))).equals(body)).toBe(true);
  });

  it('the SDK makes one attempt: a 503 SlowDown surfaces at once as RATE_LIMITED (retryable, with Retry-After)', async () => {
    const b = bare();
    await b.put('x', chunks(data(10)));
    inject((u, m) => m === 'HEAD', 100, () => new HttpResponse(null, { status: 503, headers: { 'retry-after': '7' } }));
    let heads = 0;
    msw.events.on('request:start', ({ request }) => void (request.method === 'HEAD' && heads++));
    const err = await b.stat('x').catch((e) => e);
    msw.events.removeAllListeners();
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'RATE_LIMITED', isRetryable: true, retryAfterMs: 7000, status: 503 });
    expect(heads).toBe(1);
  });

  it('500 InternalError once on a single PUT is retried', async () => {
    const b = backend();
    const hits = inject(isPut, 1, () => xmlError(500, 'InternalError'));
    await b.put('x', chunks(data(1000)));
    expect(hits()).toBe(1);
    expect((await b.stat('x')).size).toBe(1000);
  });

  it('403 AccessDenied is PERMISSION_DENIED, not retried, and leaves nothing', async () => {
    const b = backend();
    const hits = inject(isUploadPart, 100, () => xmlError(403, 'AccessDenied'));
    const err = await b.put('x', chunks(data(12 * MIB))).catch((e) => e);
    expect(err).toMatchObject({ code: 'PERMISSION_DENIED', isRetryable: false });
    expect(hits()).toBeLessThanOrEqual(3); // parts in flight, but no retries
    msw.resetHandlers();
    await noLeftovers(b, 'faults-');
  });

  it('credentials revoked mid-run: ExpiredToken is UNAUTHENTICATED with a clear message', async () => {
    const b = backend();
    await b.put('x', chunks(data(10)));
    inject(() => true, 100, () => xmlError(400, 'ExpiredToken'));
    const err = await b.get('x').catch((e) => e);
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED', isRetryable: false });
    expect(err.message).toContain('the credentials were refused (expired, revoked or wrong)');
  });

  it('a real connection reset (RST) in the middle of a part is retried and the upload completes', async () => {
    const url = new URL(moto.endpoint);
    const proxy = new ResetProxy({ host: url.hostname, port: Number(url.port) }, /^PUT .*partNumber=/, 2 * MIB);
    const endpoint = await proxy.listen();
    try {
      proxy.armed = 1;
      const b = new RetryingBackend(new S3Backend({ bucket: moto.bucket, prefix: `reset-${++n}/`, endpoint, forcePathStyle: true, credentials: TEST_CREDENTIALS, partSize: 5 * MIB }), { baseDelayMs: 1 });
      const body = Buffer.from(Array.from({ length: 11 * MIB }, (_, i) => i % 251));
      await b.put('x', chunks(body));
      expect(proxy.resets).toBe(1);
      expect((await readAll(await b.get('x'))).equals(body)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('connection resets on every part fail the upload as TRANSIENT and abort it server-side', async () => {
    const b = backend();
    inject(isUploadPart, 1000, () => HttpResponse.error());
    const err = await b.put('x', chunks(data(12 * MIB))).catch((e) => e);
    expect(err).toMatchObject({ code: 'TRANSIENT', isRetryable: true });
    msw.resetHandlers();
    await noLeftovers(b, `faults-${n}/`);
  });
});
