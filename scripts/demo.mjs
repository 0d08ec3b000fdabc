// The main job on the embedded default: a sample chat archive backed up three times with the
// real `coffer` CLI to a local-disk destination (keepLast: 1) while it changes; one backup
// remains; it is restored and compared with the source. Everything stays under ./demo-output/.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';

const root = resolve('demo-output');
const cli = resolve('apps/sync/dist/coffer.cjs');
rmSync(root, { recursive: true, force: true });
const archive = join(root, 'chat-archive');
mkdirSync(join(archive, 'Media', 'Images'), { recursive: true });
mkdirSync(join(archive, 'Media', 'Voice Notes'), { recursive: true });
mkdirSync(join(archive, 'Databases'), { recursive: true });
writeFileSync(join(archive, 'Databases', 'msgstore.db'), randomBytes(4 << 20));
const addPhotos = (from, count) => {
  for (let i = from; i < from + count; i++) writeFileSync(join(archive, 'Media', 'Images', `IMG-20261122-WA${String(i).padStart(4, '0')}.jpg`), randomBytes(1_500_000));
};
addPhotos(0, 6);
writeFileSync(join(archive, 'Media', 'Voice Notes', 'PTT-20261122-WA0001.opus'), randomBytes(400_000));
writeFileSync(
  join(root, 'coffer.yaml'),
  ['key:', '  file: ./coffer.key', 'sources:', '  - name: chats', '    path: ./chat-archive', '    exclude: ["**/*.tmp"]', 'destinations:', '  - { name: disk, type: local, path: ./backups }', 'retention: { keepLast: 1 }', ''].join('\n'),
);

const coffer = (...args) => {
  console.log(`\n$ coffer ${args.join(' ')}`);
  execFileSync(process.execPath, [cli, ...args], { stdio: 'inherit', cwd: root });
};
coffer('init', '--config', 'coffer.yaml');
coffer('backup', '--config', 'coffer.yaml');
appendFileSync(join(archive, 'Databases', 'msgstore.db'), randomBytes(100_000)); // new messages
addPhotos(6, 2);
coffer('backup', '--config', 'coffer.yaml');
appendFileSync(join(archive, 'Databases', 'msgstore.db'), randomBytes(50_000));
writeFileSync(join(archive, 'Media', 'Voice Notes', 'PTT-20261122-WA0002.opus'), randomBytes(300_000));
coffer('backup', '--config', 'coffer.yaml');
coffer('list', '--config', 'coffer.yaml');
const listed = JSON.parse(execFileSync(process.execPath, [cli, 'list', '--config', 'coffer.yaml', '--json'], { cwd: root }).toString());
if (listed.length !== 1 || listed[0].generation !== 3) throw new Error(`expected one backup (generation 3), found ${JSON.stringify(listed)}`);
coffer('verify', '--config', 'coffer.yaml');
coffer('restore', 'latest', '--config', 'coffer.yaml', '--to', './restored');
execFileSync('diff', ['-r', archive, join(root, 'restored')], { stdio: 'inherit' });
console.log(`\nOne backup remains (generation 3); restored into ${join(root, 'restored')} and identical to ${archive}.`);
console.log(`Everything this demo wrote is under ${root}.`);
