import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import * as opaque from '@serenity-kit/opaque';
import { STATUSES, VaultClient } from '@coffer/vault-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultHandler, openStore, type VaultStore } from '../src/index.js';
import { HOSTILE_ROUTES, rawRequest, startVault, type TestVault } from './harness.js';

const encodePath = (route: string) => `/v1/${encodeURI(route).replace(/%25/g, '%')}`;

let vault: TestVault;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
beforeAll(async () => {
  vault = await startVault();
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await vault.close();
});

const BODIES = fc.oneof(
  fc.string(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.record({ account: fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'a')), anchor: fc.anything() }).map((v) => JSON.stringify(v)),
  fc.nat({ max: 60_000 }).map((d) => '['.repeat(d) + ']'.repeat(d)),
  fc.nat({ max: 30_000 }).map((d) => '{"a":'.repeat(d) + '1' + '}'.repeat(d)),
  fc.constant('{"__proto__": {"polluted": true}, "account": "x"}'),
  fc.constant('x'.repeat(70_000)),
);

describe('hostile requests (in-process server)', () => {
  it('prototype member names and other odd paths are unknown routes (404), with any method', async () => {
    for (const route of HOSTILE_ROUTES) {
      for (const method of ['POST', 'GET', 'PUT', 'DELETE', 'OPTIONS']) {
        const r = await rawRequest(vault.url, method, encodePath(route), ['POST', 'PUT'].includes(method) ? '{}' : undefined);
        expect(r.http, `${method} /v1/${route.slice(0, 40)}`).toBe(404);
        expect(JSON.parse(r.body)).toMatchObject({ status: 'NOT_FOUND' });
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await fetch(`${vault.url}/healthz`)).status).toBe(200);
  });

  it('fuzzed routes and bodies: every answer is a 4xx or OK, JSON with a known status; the server keeps serving', async () => {
    const routes = fc.oneof(fc.constantFrom(...HOSTILE_ROUTES, 'enroll/start', 'enroll/finish', 'login/start', 'login/finish', 'login/abort', 'password/start', 'password/finish', 'anchor', 'anchor-key', 'status', 'token/rotate'), fc.string({ unit: 'grapheme' }));
    await fc.assert(
      fc.asyncProperty(routes, BODIES, fc.option(fc.string({ maxLength: 100 })), async (route, body, auth) => {
        const headers: Record<string, string> = auth === null ? {} : { authorization: `Bearer ${auth.replace(/[^\x20-\x7e]/g, '')}` };
        const r = await rawRequest(vault.url, 'POST', encodePath(route), body, headers);
        expect(r.http === 200 || (r.http >= 400 && r.http < 500), `${r.http} for /v1/${route.slice(0, 40)}`).toBe(true);
        expect(STATUSES).toContain((JSON.parse(r.body) as { status: string }).status);
      }),
      { numRuns: 400 },
    );
    expect((await fetch(`${vault.url}/healthz`)).status).toBe(200);
    expect(unhandled).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a client that disconnects midway through its body ends only its own request', async () => {
    const u = new URL(vault.url);
    await new Promise<void>((resolve) => {
      const req = httpRequest({ host: u.hostname, port: u.port, method: 'POST', path: '/v1/status', headers: { 'content-length': '50000' } });
      req.on('error', () => resolve());
      req.write('{"account":');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    expect((await fetch(`${vault.url}/healthz`)).status).toBe(200);
    expect(unhandled).toEqual([]);
  });
});

/** A store that works, except where a test breaks it. */
function breakable(store: VaultStore, broken: { mode: 'ok' | 'throws' | 'bug' }): VaultStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'getAccount' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (account: string) => {
        if (broken.mode === 'throws') throw Object.assign(new Error(`connection lost while reading SECRET-${account}`), { code: 'ECONNRESET' });
        const row = await (value as VaultStore['getAccount']).call(target, account);
        // A bug in the route code: reading the row throws (a getter stands for any TypeError).
        if (broken.mode === 'bug' && row) return { ...row, get tokenHash(): string { throw new TypeError(`bug near SECRET-${account}`); } };
        return row;
      };
    },
  });
}

describe('an exception inside a handler', () => {
  let server: Server;
  let url: string;
  let store: VaultStore;
  const broken = { mode: 'ok' as 'ok' | 'throws' | 'bug' };
  const logs: string[] = [];
  beforeAll(async () => {
    await opaque.ready;
    store = await openStore(`sqlite:${join(mkdtempSync(join(tmpdir(), 'coffer-vault-bug-')), 'vault.db')}`);
    const handler = createVaultHandler({ store: breakable(store, broken), serverSetup: opaque.server.createSetup(), requestsPerIpPerMinute: 100_000, log: (l) => logs.push(l) });
    server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await store.close();
  });

  it('a database failure answers 503 UNAVAILABLE; a bug answers 500 INTERNAL_ERROR; neither logs details; the server keeps serving', async () => {
    broken.mode = 'ok';
    const client = new VaultClient(url);
    const token = await client.enroll('victim', 'pw', new Uint8Array(32).fill(1), '0011223344556677');
    for (const [mode, http, status] of [['throws', 503, 'UNAVAILABLE'], ['bug', 500, 'INTERNAL_ERROR']] as const) {
      broken.mode = mode;
      const r = await rawRequest(url, 'POST', '/v1/status', JSON.stringify({ account: 'victim' }), { authorization: `Bearer ${token}` });
      expect(r.http, mode).toBe(http);
      expect(JSON.parse(r.body)).toEqual({ status, message: status === 'UNAVAILABLE' ? 'the vault database is unavailable' : 'internal error' });
      expect(((await client.status('victim', token).catch((e: Error) => e)) as Error).message).not.toContain('SECRET');
    }
    broken.mode = 'ok';
    expect((await client.status('victim', token)).triesRemaining).toBe(10);
    const text = logs.join('\n');
    expect(text).toContain('error: database failure in getAccount: Error ECONNRESET');
    expect(text).toContain('error: internal error: TypeError');
    expect(text).not.toContain('SECRET');
    expect(text).not.toContain(token);
    expect(unhandled).toEqual([]);
  });

  it('an error while writing the answer ends that request, not the process', async () => {
    const handler = createVaultHandler({ store, serverSetup: opaque.server.createSetup() });
    let destroyed = false;
    const req = Object.assign(
      (async function* () {
        yield Buffer.from('{}');
      })(),
      { method: 'POST', url: '/v1/status', headers: {}, socket: { remoteAddress: '127.0.0.9' }, complete: true },
    ) as unknown as IncomingMessage;
    const res = {
      setHeader() {},
      writeHead() {
        throw new RangeError('invalid status code');
      },
      destroy() {
        destroyed = true;
      },
    } as unknown as ServerResponse;
    await expect(handler(req, res)).resolves.toBeUndefined();
    expect(destroyed).toBe(true);
  });
});
