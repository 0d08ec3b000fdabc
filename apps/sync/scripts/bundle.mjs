// Bundles the CLI (tsc's dist/cli.js and everything it imports) into dist/bundle/, one file per
// lazily loaded command. Node's ES module loader reads each file with several thread-pool round
// trips; the ~400 files of zod, yaml, pino, noble and our own code cost ~90 ms of every start-up,
// which is a tenth of a 1 GiB backup. Not a behaviour change: the same code, fewer files.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const outdir = join(root, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist', 'cli.js')],
  outdir,
  bundle: true,
  splitting: true, // each command's dynamic import stays a separate, lazily loaded chunk
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  sourcemap: true,
  logLevel: 'warning',
  // Loaded at run time from node_modules, so each must be a dependency of this package: the
  // native addon's loader (@node-rs/crc32, used by @coffer/storage), cli-progress (required
  // lazily), and the provider and vault packages, which load only when configured.
  external: ['@node-rs/crc32', '@coffer/storage-s3', '@coffer/storage-drive', '@coffer/vault-protocol', 'cli-progress'],
  // CommonJS dependencies call require() for Node's built-ins; ES modules have no require.
  banner: { js: "import { createRequire as __cofferRequire } from 'node:module'; const require = __cofferRequire(import.meta.url);" },
});
