// pnpm bench (app): back up and restore ~1 GiB (85% incompressible media, 15% text) with
// `coffer backup`/`coffer restore` to local disk, against `tar -c | age` and restic's first
// backup / restore of the same data in the same run. Prints MB/s, peak RSS and ratios.
// COFFER_BENCH_MIB=… changes the size. Not a test.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cli = new URL('../dist/cli.js', import.meta.url).pathname;
const mib = Number(process.env.COFFER_BENCH_MIB ?? 1024);
const root = mkdtempSync(join(tmpdir(), 'coffer-app-bench-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const data = join(root, 'data');
mkdirSync(join(data, 'media'), { recursive: true });
mkdirSync(join(data, 'text'), { recursive: true });

// 85% media: random bytes in 16 MiB files.
const mediaMiB = Math.round(mib * 0.85);
const block = randomBytes(1 << 20);
for (let f = 0, left = mediaMiB; left > 0; f++) {
  const n = Math.min(16, left);
  const fd = openSync(join(data, 'media', `VID-${f}.mp4`), 'w');
  for (let i = 0; i < n; i++) writeSync(fd, randomBytes(1 << 20));
  closeSync(fd);
  left -= n;
}
void block;
// 15% text: chat-like lines in 4 MiB files.
const words = ['hello', 'see you', 'ok', 'haha', 'tomorrow', 'photo', 'love', 'where', 'dinner', 'call me'];
let line = 0;
for (let f = 0, left = (mib - mediaMiB) * 1048576; left > 0; f++) {
  const parts = [];
  let size = 0;
  while (size < Math.min(4 << 20, left)) {
    const l = `2026-11-${String((line % 28) + 1).padStart(2, '0')} ${line++}: ${words[line % 10]} ${words[(line * 7) % 10]} ${line * 31}\n`;
    parts.push(l);
    size += l.length;
  }
  writeFileSync(join(data, 'text', `chat-${f}.txt`), parts.join(''));
  left -= size;
}
execFileSync('sh', ['-c', `cat ${data}/*/* > /dev/null`]); // warm the page cache for every tool
const bytes = Number(execFileSync('du', ['-sb', data]).toString().split('\t')[0]);

/** Runs a shell command under GNU time; returns seconds and the peak RSS (MiB) of any process in it. */
function measure(cmd, env = {}) {
  // Every run starts with no dirty pages: the previous run's writeback must not slow this one.
  execFileSync('sync');
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'sh', '-c', cmd], { encoding: 'utf8', env: { ...process.env, ...env } });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return { seconds, rssMiB: Number(r.stderr.trim().split('\n').pop()) / 1024 };
}

const rows = [];
const add = (tool, op, m) => rows.push({ tool, op, 'MB/s': (bytes / 1e6 / m.seconds).toFixed(0), seconds: m.seconds.toFixed(2), 'peak RSS MiB': m.rssMiB.toFixed(0) });

// Coffer
const cdir = join(root, 'coffer');
mkdirSync(cdir);
writeFileSync(join(cdir, 'coffer.yaml'), `key:\n  file: ./coffer.key\nsources:\n  - { name: bench, path: ${data} }\ndestinations:\n  - { name: disk, type: local, path: ./backups }\n`);
execFileSync(process.execPath, [cli, 'init', '--config', 'coffer.yaml'], { cwd: cdir, stdio: 'ignore' });
const cb = measure(`cd ${cdir} && node ${cli} backup --config coffer.yaml`);
add('coffer', 'backup', cb);
const cr = measure(`cd ${cdir} && node ${cli} restore --config coffer.yaml --to ${join(root, 'restored-coffer')}`);
add('coffer', 'restore', cr);
execFileSync('diff', ['-rq', data, join(root, 'restored-coffer')]);

// tar | age
const adir = join(root, 'age');
mkdirSync(join(adir, 'out'), { recursive: true });
execFileSync('sh', ['-c', `age-keygen -o ${adir}/id 2>/dev/null`]);
const recipient = execFileSync('age-keygen', ['-y', `${adir}/id`]).toString().trim();
const ab = measure(`tar -C ${data} -cf - . | age -r ${recipient} > ${adir}/backup.age`);
add('tar | age', 'backup', ab);
const ar = measure(`age -d -i ${adir}/id ${adir}/backup.age | tar -C ${adir}/out -xf -`);
add('age | tar', 'restore', ar);

// restic (first backup: no deduplication help)
let rb;
let rr;
if (spawnSync('sh', ['-c', 'command -v restic']).status === 0) {
  const env = { RESTIC_PASSWORD: 'bench-password', RESTIC_REPOSITORY: join(root, 'restic') };
  execFileSync('restic', ['init', '--quiet'], { env: { ...process.env, ...env } });
  rb = measure(`restic backup --quiet ${data}`, env);
  add('restic', 'backup (first)', rb);
  rr = measure(`restic restore latest --quiet --target ${join(root, 'restored-restic')}`, env);
  add('restic', 'restore', rr);
} else {
  console.log('restic is not installed (apt-get install restic): skipping its rows');
}

console.log(`Coffer app vs tar|age and restic on ${(bytes / 1048576).toFixed(0)} MiB (85% incompressible media, 15% text), local disk`);
console.table(rows);
const ratio = (a, b) => (b.seconds / a.seconds).toFixed(2);
console.log(`coffer backup vs tar|age: ${ratio(cb, ab)}x   coffer restore vs age|tar: ${ratio(cr, ar)}x   (>1 = coffer faster)`);
if (rb) console.log(`coffer backup vs restic first backup: ${ratio(cb, rb)}x   coffer restore vs restic restore: ${ratio(cr, rr)}x`);
