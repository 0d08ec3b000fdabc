#!/usr/bin/env node
// coffer-build-native "<what it is>" "<what happens without it>": builds the calling package's
// optional addon (its binding.gyp) with node-gyp. Coffer works without its addons, only slower, so
// a machine without a C compiler gets a warning, not a failed install. The test suites require them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const [what = 'the native addon', fallback = 'falling back to JavaScript'] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const gyp = require.resolve('node-gyp/bin/node-gyp.js');
// Use the headers installed beside this Node (they include OpenSSL's): no download needed.
const nodedir = dirname(dirname(process.execPath));
const args = [gyp, 'rebuild', '--loglevel=warn'];
if (existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${nodedir}`);
const r = spawnSync(process.execPath, args, { cwd: process.cwd(), stdio: 'inherit' });
if (r.status !== 0) console.warn(`coffer: ${what} did not build; ${fallback}.`);
