import { mkdtempSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as opaque from '@serenity-kit/opaque';
import { createVaultHandler, openStore, type VaultStore } from '../src/index.js';

export interface TestVault {
  readonly url: string;
  readonly store: VaultStore;
  readonly dbPath?: string;
  close(): Promise<void>;
}

/** A vault on loopback in this process, on SQLite (default) or the given database URL. */
export async function startVault(database?: string, limits = { requestsPerIpPerMinute: 100_000, loginsPerAccountPerMinute: 100_000 }, serverSetup?: string): Promise<TestVault> {
  await opaque.ready;
  const dbPath = database ? undefined : join(mkdtempSync(join(tmpdir(), 'coffer-vault-api-')), 'vault.db');
  const store = await openStore(database ?? `sqlite:${dbPath}`);
  const handler = createVaultHandler({ store, serverSetup: serverSetup ?? opaque.server.createSetup(), ...limits });
  const server: Server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    store,
    dbPath,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await store.close();
    },
  };
}

/** Every name a plain object would resolve through its prototype, and other path tricks. */
export const HOSTILE_ROUTES = [
  ...Object.getOwnPropertyNames(Object.prototype),
  '__proto__',
  'prototype',
  'toString',
  'constructor',
  '',
  '.',
  '..',
  '../healthz',
  'status/..',
  'status/',
  '/status',
  '%2e%2e',
  'enroll',
  'enroll/start/extra',
  'ST\u0041TUS',
  '\u00e9t\u00e9',
  '\u{1F600}',
  'a'.repeat(8000),
];

/** Raw HTTP: any path bytes and any body, no client-side normalisation. */
export function rawRequest(url: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<{ http: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpRequest({ host: u.hostname, port: u.port, method, path, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ http: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

