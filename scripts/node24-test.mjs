// Node 24 LTS leg of `pnpm test` (scripts/test.mjs), after the Node 20 run: installs node@24 from
// the npm registry into node_modules/.cache/node24 (once; the system Node is untouched) and runs,
// on it, the CLI's end-to-end tests (local disk, S3 on moto_server, Drive on the fake API) and the
// native addons' tests. The addons are Node-API, so the ones built for Node 20 load unchanged.
// Not here: the vault's tests and e2e-vault, which need better-sqlite3 (not Node-API: one build
// per Node major), and the rest of the suite, to keep this leg short.
// Each run writes <package>/test-results-node24.json, which scripts/test.mjs adds to its total.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const NODE24_RUNS = [
  ['apps/sync', ['test/e2e-local.test.ts', 'test/e2e-s3.test.ts', 'test/e2e-drive.test.ts']],
  ['packages/crypto', ['test/native.test.ts']],
  ['packages/batch-io', []], // all of its tests: it is the addon
];

const root = join(import.meta.dirname, '..');
const prefix = join(root, 'node_modules', '.cache', 'node24');
const node24 = join(prefix, 'node_modules', 'node', 'bin', 'node');
const versionOf = (bin) => spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';

function main() {
  for (const [dir] of NODE24_RUNS) rmSync(join(root, dir, 'test-results-node24.json'), { force: true });
  if (!existsSync(node24) || !versionOf(node24).startsWith('v24.')) {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm|pnpm)_/i.test(k)));
    const r = spawnSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--loglevel=error', 'node@24'], { env, stdio: 'inherit' });
    if (r.status !== 0) return fail('npm could not install node@24');
  }
  const version = versionOf(node24);
  if (!version.startsWith('v24.')) return fail(`expected Node 24 at ${node24}, got "${version}"`);
  console.log(`node24: running the e2e and native addon tests on Node ${version}`);
  let ok = true;
  for (const [dir, files] of NODE24_RUNS) {
    const cwd = join(root, dir);
    // vitest's workers, and every process the tests spawn through process.execPath (the CLI), run on node24.
    const r = spawnSync(node24, [join(cwd, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...files, '--outputFile.json=test-results-node24.json'], { cwd, stdio: 'inherit' });
    ok &&= r.status === 0;
  }
  process.exitCode = ok ? 0 : 1;
}

function fail(message) {
  console.error(`node24: ${message}`);
  process.exitCode = 1;
}

if (import.meta.main ?? process.argv[1] === import.meta.filename) main();
