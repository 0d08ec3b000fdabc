// pnpm bench (storage): upload and download 1 GiB through the local-disk backend and the S3
// backend against moto_server, next to `cp` of the same file as the physical reference.
// COFFER_BENCH_MIB=… changes the size. Not a test: it prints numbers.
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBackend } from '@coffer/storage';
import { startMoto, TEST_CREDENTIALS } from '@coffer/storage-testkit';
import { S3Backend } from '../dist/index.js';

const mib = Number(process.env.COFFER_BENCH_MIB ?? 1024);
const dir = mkdtempSync(join(tmpdir(), 'coffer-storage-bench-'));
const input = join(dir, 'input');
const fd = openSync(input, 'w');
const block = randomBytes(1 << 20);
for (let i = 0; i < mib; i++) writeSync(fd, block);
closeSync(fd);
const bytes = mib * 1048576;
const mbps = (s) => (bytes / 1e6 / s).toFixed(0);
const time = async (fn) => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
};
const drain = async (stream) => {
  for await (const _ of stream);
};

const rows = [];
const cp = await time(() => execFileSync('cp', [input, join(dir, 'copy')]));
rows.push({ target: 'cp (reference)', 'upload MB/s': mbps(cp), 'download MB/s': mbps(await time(() => execFileSync('cat', [join(dir, 'copy')], { stdio: ['ignore', 'ignore', 'ignore'] }))) });
rmSync(join(dir, 'copy'));

const local = new LocalBackend({ root: join(dir, 'local') });
const lu = await time(() => local.put('bench/object', createReadStream(input, { highWaterMark: 4 << 20 })));
const ld = await time(async () => drain(await local.get('bench/object')));
rows.push({ target: 'coffer local', 'upload MB/s': mbps(lu), 'download MB/s': mbps(ld), 'upload vs cp': (cp / lu).toFixed(2) });
await local.delete('bench/object');

const moto = await startMoto();
try {
  const s3 = new S3Backend({ bucket: moto.bucket, endpoint: moto.endpoint, forcePathStyle: true, credentials: TEST_CREDENTIALS, partSize: 16 << 20, queueSize: 4 });
  const su = await time(() => s3.put('bench/object', createReadStream(input, { highWaterMark: 4 << 20 })));
  const sd = await time(async () => drain(await s3.get('bench/object')));
  rows.push({ target: 'coffer s3 → moto_server', 'upload MB/s': mbps(su), 'download MB/s': mbps(sd), 'upload vs cp': (cp / su).toFixed(2) });
} finally {
  await moto.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`Storage backends, ${mib} MiB (ratio < 1 means slower than cp)`);
console.table(rows);
