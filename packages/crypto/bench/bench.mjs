// pnpm bench: Coffer's crypto core against the Go `age` binary on the same data, in one run.
// Not a test: it prints numbers. COFFER_BENCH_MIB=… changes the large size (default 1024).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveKeyMaterial, encodeIdentity, encodeRecipient, formatKeyFile, generateBackupKey } from '../dist/index.js';

const here = new URL('.', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'coffer-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const key = generateBackupKey();
const m = deriveKeyMaterial(key);
writeFileSync(join(dir, 'key'), formatKeyFile(key), { mode: 0o600 });
writeFileSync(join(dir, 'id'), encodeIdentity(m.identity), { mode: 0o600 });
const recipient = encodeRecipient(m.recipient);

function makeInput(mib) {
  const file = join(dir, `in-${mib}`);
  const fd = openSync(file, 'w');
  const block = randomBytes(1 << 20);
  for (let i = 0; i < mib; i++) writeSync(fd, block);
  closeSync(fd);
  execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] }); // warm the page cache for both sides
  return file;
}

function coffer(op, input, output) {
  const r = spawnSync(process.execPath, [join(here, 'worker.mjs'), op, join(dir, 'key'), input, output], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`coffer ${op} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function age(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'age', ...args], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`age failed: ${r.stderr}`);
  return { seconds, maxRssKiB: Number(r.stderr.trim().split('\n').pop()) };
}

const hasTime = spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status === 0;
const ageRun = hasTime ? age : (args) => {
  const start = process.hrtime.bigint();
  execFileSync('age', args);
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, maxRssKiB: NaN };
};

const best = (f, n = 3) => Array.from({ length: n }, f).reduce((a, b) => (b.seconds < a.seconds ? b : a));
const mbps = (bytes, s) => bytes / 1e6 / s;
const rows = [];
for (const mib of [100, Number(process.env.COFFER_BENCH_MIB ?? 1024)]) {
  const input = makeInput(mib);
  const bytes = statSync(input).size;
  const runs = mib > 200 ? 2 : 3;
  // Output to /dev/null on both sides: the disk's writeback would otherwise dominate and vary.
  const ce = best(() => coffer('encrypt', input, '/dev/null'), runs);
  const ae = best(() => ageRun(['-r', recipient, '-o', '/dev/null', input]), runs);
  coffer('encrypt', input, join(dir, 'c.age'));
  ageRun(['-r', recipient, '-o', join(dir, 'a.age'), input]);
  const cd = best(() => coffer('decrypt', join(dir, 'c.age'), '/dev/null'), runs);
  const ad = best(() => ageRun(['-d', '-i', join(dir, 'id'), '-o', '/dev/null', join(dir, 'a.age')]), runs);
  for (const [dirn, c, a] of [['encrypt', ce, ae], ['decrypt', cd, ad]]) {
    rows.push({
      size: `${mib} MiB`,
      op: dirn,
      'coffer MB/s': mbps(bytes, c.seconds).toFixed(0),
      'age MB/s': mbps(bytes, a.seconds).toFixed(0),
      'ratio coffer/age': (a.seconds / c.seconds).toFixed(2),
      'coffer peak RSS MiB': (c.maxRssKiB / 1024).toFixed(0),
      'age peak RSS MiB': (a.maxRssKiB / 1024).toFixed(0),
    });
  }
  rmSync(input);
}
console.log('Coffer crypto core vs Go age (best of runs; ratio > 1 means Coffer is faster)');
console.table(rows);
