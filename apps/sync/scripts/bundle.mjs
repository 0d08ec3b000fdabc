// Bundles the CLI (tsc's dist/cli.js and everything it imports) into one CommonJS file,
// dist/bundle/cli.cjs, which the launcher (src/coffer.cts) compiles with V8's code cache
// (scripts/code-cache.mjs). Node's ES module loader reads each file with several thread-pool round
// trips, and ES modules cannot use a code cache on Node 20; the ~400 files of zod, yaml, noble
// and our own code cost ~90 ms of every start-up. Not a behaviour change: the same code,
// one file, and each command's code still runs only when the command does.
import { build } from 'esbuild';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const outdir = join(root, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'dist', 'cli.js')],
  outfile: join(outdir, 'cli.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // import() of the external packages below becomes require() (of ES modules too, Node ≥ 20.19):
  // a script compiled with node:vm can run import() only behind an experimental flag.
  supported: { 'dynamic-import': false },
  sourcemap: true,
  logLevel: 'warning',
  // Loaded at run time from node_modules, so each must be a dependency of this package: the
  // native addon's loader (@node-rs/crc32, used by @coffer/storage), cli-progress and pino (required
  // lazily), and the provider and vault packages, which load only when configured.
  external: ['@node-rs/crc32', '@coffer/storage-s3', '@coffer/storage-drive', '@coffer/vault-protocol', 'cli-progress'],
  // The sources are ES modules; in CommonJS, import.meta.url is this file's URL.
  define: { 'import.meta.url': 'import_meta_url' },
  banner: { js: "var import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
});
// The launcher, in place, with the three small modules it requires: required as ES modules, they
// would first start Node's ES module loader (~7 ms of every start-up).
const launcher = join(root, 'dist', 'coffer.cjs');
await build({ entryPoints: [launcher], outfile: launcher, allowOverwrite: true, bundle: true, format: 'cjs', platform: 'node', target: 'node20', logLevel: 'warning' });
rmSync(`${launcher}.map`, { force: true }); // tsc's map, of the file this replaced
// The emergency kit's restore script is read at run time from beside the code that reads it
// (new URL('./restore.sh', import.meta.url)): next to the bundle and next to tsc's output.
for (const to of [join(outdir, 'restore.sh'), join(root, 'dist', 'emergency-kit', 'restore.sh')]) {
  copyFileSync(join(root, 'src', 'emergency-kit', 'restore.sh'), to);
}
