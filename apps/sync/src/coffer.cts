#!/usr/bin/env node
// The `coffer` executable. CommonJS on purpose: Node's ES module loader reads files on libuv's
// thread pool, and the pool's size is fixed when it starts, so it must be set before any import.
import threadPool = require('./thread-pool.js'); // require(esm): loaded synchronously, off the pool

process.env.UV_THREADPOOL_SIZE = threadPool.threadPoolSize(process.env);
// Stack traces (--debug only) then name the TypeScript sources, not the bundle.
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
const cli: string = './bundle/cli.mjs'; // scripts/bundle.mjs makes it from dist/cli.js
import(cli).catch((err: Error) => {
  // Only a broken installation gets here: the CLI reports its own errors.
  process.stderr.write(`coffer: could not start: ${err.message}\n`);
  process.exitCode = 1;
});
