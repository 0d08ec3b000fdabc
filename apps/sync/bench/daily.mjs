// The daily scenario of issue 17, beside restic in the same run: ~1 GiB (85% incompressible media,
// 15% chat text), a first backup, then COFFER_BENCH_DAYS days (3) on each of which 1% of the media
// files are rewritten and 1% is appended to a chat file, and one day on which nothing changes.
// Per day: bytes written to the destination (the size of every file created or changed there) and
// wall time, for `coffer backup` (format: chunked, keepLast 1: rotation and collection included),
// `restic backup`, and `restic backup` + `forget --keep-last 1 --prune --max-unused 0`. Not a test.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** path → size and mtime of every file under `dir`. */
function files(dir) {
  const out = new Map();
  for (const name of readdirSync(dir, { recursive: true })) {
    const s = statSync(join(dir, name));
    if (s.isFile()) out.set(name, `${s.size}:${s.mtimeMs}`);
  }
  return out;
}

/** Runs `cmd`; returns wall seconds and the bytes of files new or changed under `repo`. */
function day(cmd, repo, env = {}) {
  execFileSync('sync');
  const before = files(repo);
  const t = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', env: { ...process.env, ...env } });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  let written = 0;
  for (const [name, stamp] of files(repo)) if (before.get(name) !== stamp) written += Number(stamp.split(':')[0]);
  return { seconds, written };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** `mixed` makes the data; `cli` is the built coffer; `hasRestic` whether to run its rows. */
export function daily(root, { mixed, cli, hasRestic }) {
  const dir = join(root, 'daily');
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  mixed(data, Number(process.env.COFFER_BENCH_MIB ?? 1024));
  const media = readdirSync(join(data, 'media')).sort();
  const days = Number(process.env.COFFER_BENCH_DAYS ?? 3);

  const cdir = join(dir, 'coffer');
  mkdirSync(join(cdir, 'backups'), { recursive: true });
  writeFileSync(
    join(cdir, 'coffer.yaml'),
    `key:\n  file: ./coffer.key\nsources:\n  - { name: bench, path: ${data} }\ndestinations:\n  - { name: disk, type: local, path: ./backups, format: chunked }\nretention: { keepLast: 1 }\n`,
  );
  execFileSync(process.execPath, [cli, 'init', '--config', 'coffer.yaml'], { cwd: cdir, stdio: 'ignore' });
  const env = { RESTIC_PASSWORD: 'bench-password' };
  const repos = { backup: join(dir, 'restic-backup'), prune: join(dir, 'restic-prune') };
  const tools = {
    'coffer backup': { cmd: `cd ${cdir} && node ${cli} backup --config coffer.yaml`, repo: join(cdir, 'backups') },
    ...(hasRestic
      ? {
          'restic backup': { cmd: `restic -r ${repos.backup} backup --quiet ${data}`, repo: repos.backup },
          'restic backup + forget --prune': {
            cmd: `restic -r ${repos.prune} backup --quiet ${data} && restic -r ${repos.prune} forget --quiet --keep-last 1 --prune --max-unused 0`,
            repo: repos.prune,
          },
        }
      : {}),
  };
  for (const repo of Object.values(repos)) if (hasRestic) execFileSync('restic', ['-r', repo, 'init', '--quiet'], { env: { ...process.env, ...env } });
  const results = Object.fromEntries(Object.keys(tools).map((t) => [t, { first: null, days: [], unchanged: null }]));
  for (const [name, t] of Object.entries(tools)) results[name].first = day(t.cmd, t.repo, env);
  for (let d = 0; d < days; d++) {
    // 1% of the media files rewritten (at least one), 1% of the text appended to one chat file.
    const count = Math.max(1, Math.round(media.length / 100));
    for (let i = 0; i < count; i++) {
      const file = join(data, 'media', media[(d * 7 + i) % media.length]);
      writeFileSync(file, randomBytes(statSync(file).size));
    }
    const text = readdirSync(join(data, 'text')).sort();
    const textBytes = text.reduce((n, f) => n + statSync(join(data, 'text', f)).size, 0);
    appendFileSync(join(data, 'text', text[0]), Buffer.from(`${'new message of the day '.repeat(Math.ceil(textBytes / 100 / 23))}\n`.slice(0, Math.round(textBytes / 100))));
    for (const [name, t] of Object.entries(tools)) results[name].days.push(day(t.cmd, t.repo, env));
  }
  for (const [name, t] of Object.entries(tools)) results[name].unchanged = day(t.cmd, t.repo, env);

  const bytes = Number(execFileSync('du', ['-sb', data]).toString().split('\t')[0]);
  console.log(`\ndaily: ${(bytes / 1048576).toFixed(0)} MiB, ${media.length} media files; ${days} days of 1% change, medians; keepLast 1`);
  const rows = Object.entries(results).map(([tool, r]) => ({
    tool,
    'first backup s': r.first.seconds.toFixed(2),
    'MB written / day': (median(r.days.map((x) => x.written)) / 1e6).toFixed(1),
    's / day': median(r.days.map((x) => x.seconds)).toFixed(2),
    'unchanged day s': r.unchanged.seconds.toFixed(2),
  }));
  console.table(rows);
  if (hasRestic) {
    const c = results['coffer backup'];
    const rb = results['restic backup'];
    const written = median(c.days.map((x) => x.written)) / median(rb.days.map((x) => x.written));
    const wall = median(c.days.map((x) => x.seconds)) / median(rb.days.map((x) => x.seconds));
    console.log(`coffer vs restic backup, per day: ${written.toFixed(2)}x the bytes written (target <= 1.5), ${wall.toFixed(2)}x the wall time (target <= 1.0)`);
  }
}
