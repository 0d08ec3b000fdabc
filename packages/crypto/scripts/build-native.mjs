// Builds the optional native STREAM batcher (native/coffer_native.c) with node-gyp.
// Coffer works without it (node:crypto does every chunk on the main thread, ~30% slower), so a
// machine without a C compiler gets a warning, not a failed install. The test suite requires it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const gyp = require.resolve('node-gyp/bin/node-gyp.js');
// Use the headers installed beside this Node (they include OpenSSL's): no download needed.
const nodedir = dirname(dirname(process.execPath));
const args = [gyp, 'rebuild', '--loglevel=warn'];
if (existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodedir}`);
const r = spawnSync(process.execPath, args, { cwd: join(import.meta.dirname, '..'), stdio: 'inherit' });
if (r.status !== 0) console.warn('coffer: the native STREAM batcher did not build; falling back to node:crypto on the main thread.');
