// `pnpm test`: every package's tests through turbo (on this machine's Node), then two more legs:
// the CLI's end-to-end and the native addons' tests on Node 24 (scripts/node24-test.mjs), and the
// published packages installed from their tarballs in a scratch project (scripts/consumer-test.mjs).
// Ends with one plain line for the whole repository ("N passed, N failed") read from each vitest
// JSON report.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { NODE24_RUNS } from './node24-test.mjs';

const packages = ['packages/crypto', 'packages/batch-io', 'packages/storage', 'apps/sync', 'apps/vault', 'packages/storage-s3', 'packages/storage-drive', 'packages/storage-testkit', 'packages/vault-protocol'].filter((p) => existsSync(join(p, 'package.json')));
const reports = [
  ...packages.map((p) => join(p, 'test-results.json')),
  ...NODE24_RUNS.map(([p]) => join(p, 'test-results-node24.json')),
  join('scripts', 'consumer', 'test-results.json'),
];
for (const file of reports) rmSync(file, { force: true });

const started = Date.now();
const turbo = spawnSync('pnpm', ['exec', 'turbo', 'run', 'test', '--concurrency=1', ...process.argv.slice(2)], { stdio: 'inherit' });
const legs = ['scripts/node24-test.mjs', 'scripts/consumer-test.mjs'].map((script) => {
  const t = Date.now();
  const r = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  console.log(`${script}: ${((Date.now() - t) / 1000).toFixed(0)} s`);
  return r.status;
});

let passed = 0;
let failed = 0;
for (const file of reports) {
  if (!existsSync(file)) {
    console.error(`${file}: no test report (its tests did not run)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests + (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
console.log(`pnpm test: ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(turbo.status !== 0 || legs.some((s) => s !== 0) || failed > 0 || passed === 0 ? 1 : 0);
