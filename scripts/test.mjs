// `pnpm test`: every package's tests through turbo, then one plain closing line for the whole
// repository ("N passed, N failed") read from each package's vitest JSON report.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const packages = ['packages/crypto', 'packages/batch-io', 'packages/storage', 'apps/sync', 'apps/vault', 'packages/storage-s3', 'packages/storage-drive', 'packages/storage-testkit', 'packages/vault-protocol'].filter((p) => existsSync(join(p, 'package.json')));
for (const p of packages) rmSync(join(p, 'test-results.json'), { force: true });
const turbo = spawnSync('pnpm', ['exec', 'turbo', 'run', 'test', '--concurrency=1', ...process.argv.slice(2)], { stdio: 'inherit' });
let passed = 0;
let failed = 0;
for (const p of packages) {
  const file = join(p, 'test-results.json');
  if (!existsSync(file)) {
    console.error(`${p}: no test report (its tests did not run)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests + (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(turbo.status !== 0 || failed > 0 || passed === 0 ? 1 : 0);
