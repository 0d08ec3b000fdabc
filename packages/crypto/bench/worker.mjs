// One measured operation in its own process, so its peak RSS is its own. Reads are 2 MiB: 4 MiB
// is ~10% faster but lifts peak RSS by ~45 MiB (glibc keeps the larger freed blocks).
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream, createEncryptStream, parseKeyFile } from '../dist/index.js';

const [op, keyFile, input, output] = process.argv.slice(2);
const { material } = parseKeyFile(readFileSync(keyFile, 'utf8'));
const meta = { backupId: 'bench', source: 'bench', createdAt: new Date().toISOString(), generation: 1 };
const start = process.hrtime.bigint();
const stream = op === 'encrypt' ? createEncryptStream({ key: material, metadata: meta }) : createDecryptStream(material);
await pipeline(createReadStream(input, { highWaterMark: 2 << 20 }), stream, createWriteStream(output, { highWaterMark: 1 << 20 }));
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
process.stdout.write(JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS }));
