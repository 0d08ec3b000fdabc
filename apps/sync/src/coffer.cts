#!/usr/bin/env node
// The `coffer` executable. CommonJS on purpose: the thread pool's size is fixed when it starts,
// so it must be set before anything can use the pool.
import threadPool = require('./thread-pool.js'); // require(esm): loaded synchronously, off the pool
import codeCache = require('./code-cache.js');
import heap = require('./heap.js');

process.env.UV_THREADPOOL_SIZE = threadPool.threadPoolSize(process.env);
// scripts/bundle.mjs makes the bundle from dist/cli.js; scripts/code-cache.mjs makes its cache.
const bundle = `${__dirname}/bundle/cli.cjs`;
try {
  if (process.argv.includes('--debug')) {
    // Stack traces then name the TypeScript sources: Node maps them only in files it loads itself.
    process.setSourceMapsEnabled(true);
    require(bundle);
  } else {
    const cli = codeCache.compileCommonJs(bundle);
    if (process.env.COFFER_SAVE_CODE_CACHE === '1') {
      process.on('exit', () => {
        // V8 accepts a cache only under the flags it was made with: put back those the run changed.
        heap.restoreHeapDefaults();
        cli.save();
      });
    }
    cli.run();
  }
} catch (err) {
  // Only a broken installation gets here: the CLI reports its own errors.
  process.stderr.write(`coffer: could not start: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
