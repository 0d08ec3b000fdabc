// Makes the CLI's V8 code cache (src/code-cache.ts): runs `coffer init` and one `coffer backup` of
// a small tree to a local folder, in a temporary folder it then removes, and saves the bytecode
// of everything the backup compiled. A backup is the run whose start-up matters most; any other
// command still uses the cache for what it shares, and compiles the rest as before.
// Without a cache the CLI works the same and starts ~60 ms slower, so a failure here only warns.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cli = join(import.meta.dirname, '..', 'dist', 'coffer.cjs');
let dir;
try {
  dir = mkdtempSync(join(tmpdir(), 'coffer-code-cache-'));
  mkdirSync(join(dir, 'data', 'photos'), { recursive: true });
  writeFileSync(join(dir, 'data', 'notes.txt'), 'a file to back up\n');
  writeFileSync(join(dir, 'data', 'photos', 'a.jpg'), Buffer.alloc(200_000, 7));
  writeFileSync(join(dir, 'data', 'video.mp4'), Buffer.alloc(3 << 20, 9)); // read in pieces, not whole
  writeFileSync(
    join(dir, 'coffer.yaml'),
    'key:\n  file: ./coffer.key\nsources:\n  - { name: data, path: ./data }\ndestinations:\n  - { name: disk, type: local, path: ./backups }\n',
  );
  const run = (args, env = {}) => execFileSync(process.execPath, [cli, ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  run(['init', '--config', 'coffer.yaml']);
  run(['backup', '--config', 'coffer.yaml'], { COFFER_SAVE_CODE_CACHE: '1' });
} catch (err) {
  console.warn(`coffer: no code cache was made, so the CLI compiles at every start: ${err.stderr?.toString().trim() || err.message}`);
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
