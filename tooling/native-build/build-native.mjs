#!/usr/bin/env node
// coffer-build-native [--install] "<what it is>" "<what happens without it>": builds the calling
// package's optional addon (its binding.gyp) with node-gyp. Coffer works without its addons, only
// slower, so a machine without a C compiler gets a warning, not a failed install. The test suites
// require them.
//
// `--install` is the package's install script: an installed copy (one under node_modules) builds
// here, from the C sources in its tarball, since a tarball carries no machine-built binary. A
// checkout skips it: there `pnpm build` builds the addon, after every change to its C source.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';

const args = process.argv.slice(2);
const atInstall = args[0] === '--install';
if (atInstall) args.shift();
if (atInstall && !process.cwd().split(sep).includes('node_modules')) process.exit(0);

const [what = 'the native addon', fallback = 'falling back to JavaScript'] = args;
const require = createRequire(import.meta.url);
const gyp = require.resolve('node-gyp/bin/node-gyp.js');
// Use the headers installed beside this Node (they include OpenSSL's): no download needed.
const nodedir = dirname(dirname(process.execPath));
const gypArgs = [gyp, 'rebuild', '--loglevel=warn'];
if (existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) gypArgs.push(`--nodedir=${nodedir}`);
const r = spawnSync(process.execPath, gypArgs, { cwd: process.cwd(), stdio: 'inherit' });
if (r.status !== 0) console.warn(`coffer: ${what} did not build; ${fallback}.`);
