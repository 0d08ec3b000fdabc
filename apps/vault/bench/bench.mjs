// pnpm bench (vault): server-side login cost under 50 concurrent clients, on SQLite and on
// PostgreSQL. The server is the real `coffer-vault serve` in its own process; its per-request log
// lines give the server-side time of login/start (attempt counted durably) and login/finish.
// Clients run here, so their OPAQUE work (≈0.2 s of CPU per login) does not distort the server's
// numbers; throughput is bounded by that client work on a 2-core machine, which is reported too.
// COFFER_BENCH_LOGINS=… changes the number of logins. Not a test.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as opaque from '@serenity-kit/opaque';
import { VaultClient } from '@coffer/vault-protocol';
import { startPostgres } from '../dist/testing/postgres.js';

await opaque.ready;
const cli = new URL('../dist/cli.js', import.meta.url).pathname;
const total = Number(process.env.COFFER_BENCH_LOGINS ?? 500);
const CONCURRENCY = 50;

async function run(label, database) {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-vault-bench-'));
  writeFileSync(join(dir, 'vault.yaml'), `listen: "127.0.0.1:0"\ndatabase: "${database}"\nsecretsFile: ./secrets\nrateLimits: { requestsPerIpPerMinute: 1000000000, loginsPerAccountPerMinute: 1000000000 }\n`);
  const server = spawn(process.execPath, [cli, 'serve', '--config', 'vault.yaml'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr.on('data', (d) => (log += d));
  while (!/listening on/.test(log)) await new Promise((r) => setTimeout(r, 50));
  const url = log.match(/listening on (http:\/\/\S+)/)[1];
  const client = new VaultClient(url);
  const accounts = [];
  for (let i = 0; i < CONCURRENCY; i++) accounts.push({ account: `bench-${i}`, password: `password-${i}`, token: await client.enroll(`bench-${i}`, `password-${i}`, new Uint8Array(32).fill(i), '0011223344556677', 255) });
  log = '';
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    accounts.map(async ({ account, password, token }) => {
      while (started < total) {
        started += 1;
        await client.unlock(account, token, password);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  server.kill('SIGTERM');
  const ms = (route) => [...log.matchAll(new RegExp(`POST /v1/${route} 200 OK (\\d+)ms`, 'g'))].map((m) => Number(m[1])).sort((a, b) => a - b);
  const pct = (list, p) => list[Math.min(list.length - 1, Math.floor((p / 100) * list.length))];
  const start = ms('login/start');
  const finish = ms('login/finish');
  return {
    store: label,
    logins: finish.length,
    'logins/s': (finish.length / seconds).toFixed(1),
    'start p50/p99 ms': `${pct(start, 50)} / ${pct(start, 99)}`,
    'finish p50/p99 ms': `${pct(finish, 50)} / ${pct(finish, 99)}`,
  };
}

const rows = [await run('sqlite', 'sqlite:./vault.db')];
const pg = await startPostgres();
try {
  rows.push(await run('postgres', pg.url));
} finally {
  pg.stop();
}
console.log(`Vault logins with ${CONCURRENCY} concurrent clients; server-side time per request from the server's own log`);
console.table(rows);
console.log('logins/s is bounded by the clients’ OPAQUE work (about 0.2 s of CPU each) sharing this 2-core machine.');
