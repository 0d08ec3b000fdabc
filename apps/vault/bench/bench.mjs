// pnpm bench (vault): server-side login throughput and latency (p50/p99) with 50 concurrent
// clients, on SQLite and on PostgreSQL. Client-side OPAQUE work is done ahead of time so the
// numbers are the server's: login/start (attempt counted durably) + login/finish.
// COFFER_BENCH_LOGINS=… changes the number of logins. Not a test.
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as opaque from '@serenity-kit/opaque';
import { VaultClient } from '@coffer/vault-protocol';
import { createVaultHandler, openStore } from '../dist/index.js';
import { startPostgres } from '../dist/testing/postgres.js';

await opaque.ready;
const total = Number(process.env.COFFER_BENCH_LOGINS ?? 400);
const CONCURRENCY = 50;

async function run(label, database) {
  const store = await openStore(database);
  const handler = createVaultHandler({ store, serverSetup: opaque.server.createSetup(), requestsPerIpPerMinute: 1e9, loginsPerAccountPerMinute: 1e9 });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const client = new VaultClient(url);
  const accounts = [];
  for (let i = 0; i < CONCURRENCY; i++) {
    const account = `bench-${i}`;
    accounts.push({ account, token: await client.enroll(account, `password-${i}`, new Uint8Array(32).fill(i), '0011223344556677', 255) });
  }
  // Precompute each client's first message (client-side cost is not the server's).
  const post = (path, body, token) => fetch(`${url}/v1/${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body) }).then((r) => r.json());
  const latencies = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    accounts.map(async ({ account, token }, i) => {
      while (next < total) {
        next += 1;
        const { clientLoginState, startLoginRequest } = opaque.client.startLogin({ password: `password-${i}` });
        const t0 = performance.now();
        const start = await post('login/start', { account, startLoginRequest }, token);
        const t1 = performance.now();
        const fin = opaque.client.finishLogin({ clientLoginState, loginResponse: start.loginResponse, password: `password-${i}` });
        const t2 = performance.now();
        const done = await post('login/finish', { account, loginId: start.loginId, finishLoginRequest: fin.finishLoginRequest }, token);
        if (done.status !== 'OK') throw new Error(`login failed: ${done.status}`);
        latencies.push(t1 - t0 + (performance.now() - t2));
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1);
  server.closeAllConnections();
  server.close();
  await store.close();
  return { store: label, logins: latencies.length, 'logins/s (wall, incl. client work)': (latencies.length / seconds).toFixed(0), 'server p50 ms': pct(50), 'server p99 ms': pct(99) };
}

const rows = [await run('sqlite', `sqlite:${join(mkdtempSync(join(tmpdir(), 'coffer-vault-bench-')), 'vault.db')}`)];
const pg = await startPostgres();
try {
  rows.push(await run('postgres', pg.url));
} finally {
  pg.stop();
}
console.log(`Vault logins, ${CONCURRENCY} concurrent clients (latency = login/start + login/finish round trips, excluding client OPAQUE work)`);
console.table(rows);
