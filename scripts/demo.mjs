// Interim main job (until the coffer app exists): make a sample chat archive, encrypt it as a
// Coffer backup, decrypt it, and compare. Everything goes under ./demo-output/.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, createWriteStream, createReadStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream, createEncryptStream, deriveKeyMaterial, formatBackupKey, generateBackupKey, toWriteOnly } from '@coffer/crypto';

const root = join(process.cwd(), 'demo-output');
rmSync(root, { recursive: true, force: true });
const src = join(root, 'chat-archive');
mkdirSync(join(src, 'media'), { recursive: true });
writeFileSync(join(src, 'msgstore.db'), randomBytes(2 << 20));
for (let i = 0; i < 5; i++) writeFileSync(join(src, 'media', `IMG-${i}.jpg`), randomBytes(300_000));

const key = generateBackupKey();
const material = deriveKeyMaterial(key);
console.log(`backup key (demo only, printed once): ${formatBackupKey(key)}`);
const tar = spawn('tar', ['-C', src, '-cf', '-', '.']);
const backup = join(root, 'chats.age');
await pipeline(tar.stdout, createEncryptStream({ key: toWriteOnly(material), metadata: { backupId: 'demo-1', source: 'chats', createdAt: new Date().toISOString(), generation: 1 } }), createWriteStream(backup));
const dest = join(root, 'restored');
mkdirSync(dest);
const untar = spawn('tar', ['-C', dest, '-xf', '-'], { stdio: ['pipe', 'inherit', 'inherit'] });
await pipeline(createReadStream(backup), createDecryptStream(material), untar.stdin);
await new Promise((resolve) => untar.on('close', resolve));
execFileSync('diff', ['-r', src, dest]);
console.log(`encrypted ${src} -> ${backup}, restored to ${dest}: identical`);
