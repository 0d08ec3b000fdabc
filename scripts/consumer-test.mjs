// The packages as others get them: packs each publishable package with `pnpm pack` (which rewrites
// `workspace:` and `catalog:`), installs the tarballs with npm into a scratch project in a temporary
// folder outside the workspace (third-party dependencies from the registry; native addons built at
// install), and runs scripts/consumer/*.test.ts there with vitest, plus every ```ts block of the
// packages' READMEs (as installed) and of the root README: each is typechecked under
// moduleResolution node16 and bundler, and those that import vitest run as tests.
// Run by `pnpm test` after the build (scripts/test.mjs); alone: `pnpm build && node scripts/consumer-test.mjs`.
// Writes its vitest report to scripts/consumer/test-results.json. KEEP=1 keeps the scratch folder.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PUBLISHED } from './consumer/published.mjs';

const root = join(import.meta.dirname, '..');
const report = join(root, 'scripts', 'consumer', 'test-results.json');
rmSync(report, { force: true });

const scratch = mkdtempSync(join(tmpdir(), 'coffer-consumer-'));
if (!relative(root, scratch).startsWith('..')) throw new Error(`the scratch project ${scratch} must lie outside the workspace`);
const tarballs = join(scratch, 'tarballs');
const project = join(scratch, 'project');
mkdirSync(project, { recursive: true });

// npm and pnpm pass their settings to child processes as npm_* variables: none may leak into npm here.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm|pnpm)_/i.test(k)));
function run(cmd, args, cwd, extraEnv = {}) {
  const t = Date.now();
  const r = spawnSync(cmd, args, { cwd, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${r.stdout}\n${r.stderr}`);
  console.log(`consumer: ${cmd} ${args.slice(0, 2).join(' ')} ${relative(root, cwd) || '.'} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  return r.stdout;
}

try {
  // 1. Pack. pnpm pack resolves workspace: and catalog: ranges to the versions they stand for.
  const files = {};
  for (const dir of PUBLISHED) {
    const name = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).name;
    const { filename } = JSON.parse(run('pnpm', ['pack', '--json', '--pack-destination', tarballs], join(root, dir)));
    files[name] = `file:${relative(project, filename)}`;
  }

  // 2. A consumer project. overrides pin every @coffer package, also as a dependency of another, to
  // its tarball: nothing named @coffer/* may come from a registry.
  const catalog = Object.fromEntries(
    [...readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8').matchAll(/^ {2}"?([@\w./-]+)"?: (\S+)$/gm)].map((m) => [m[1], m[2]]),
  );
  const devDependencies = {
    vitest: catalog.vitest,
    typescript: catalog.typescript,
    '@types/node': catalog['@types/node'],
    msw: '~2.15.0',
    '@googleapis/drive': '22.0.0',
  };
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'coffer-consumer', private: true, type: 'module', dependencies: files, devDependencies, overrides: files }, null, 2),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], project);

  // 3. The tests: ours, and the README examples as installed.
  for (const f of readdirSync(join(import.meta.dirname, 'consumer'))) {
    if (f.endsWith('.ts')) cpSync(join(import.meta.dirname, 'consumer', f), join(project, f));
  }
  const readmes = Object.keys(files).map((name) => [name.replace('@coffer/', ''), join(project, 'node_modules', name, 'README.md')]);
  readmes.push(['root', join(root, 'README.md')]);
  mkdirSync(join(project, 'readme'));
  let examples = 0;
  for (const [label, file] of readmes) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // a package without a README fails the tarball test
    }
    [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].forEach((m, i) => {
      const runs = /from 'vitest'/.test(m[1]);
      writeFileSync(join(project, 'readme', `${label}-${i + 1}${runs ? '.test' : ''}.ts`), m[1]);
      examples += 1;
    });
  }
  console.log(`consumer: ${examples} README examples`);
  // Declaration files are checked too (skipLibCheck off) under node16, the stricter of the two; under
  // bundler that would double the time for little (the same .d.ts files, resolved the same way).
  const base = { target: 'ES2022', lib: ['ES2023', 'DOM'], types: ['node'], strict: true, noEmit: true, isolatedModules: true };
  const include = ['*.ts', 'readme/*.ts'];
  writeFileSync(join(project, 'tsconfig.node16.json'), JSON.stringify({ compilerOptions: { ...base, module: 'node16', moduleResolution: 'node16', skipLibCheck: false }, include }));
  writeFileSync(join(project, 'tsconfig.bundler.json'), JSON.stringify({ compilerOptions: { ...base, module: 'preserve', moduleResolution: 'bundler', skipLibCheck: true }, include }));

  // 4. Run them, from the consumer's node_modules only.
  const vitest = spawnSync(
    'npx',
    ['--no-install', 'vitest', 'run', '--root', project, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, '--testTimeout=120000', '--hookTimeout=120000'],
    { cwd: project, env: { ...env, COFFER_TARBALLS: tarballs }, stdio: 'inherit' },
  );
  process.exitCode = vitest.status === 0 ? 0 : 1;
} catch (err) {
  console.error(`consumer: ${err.message}`);
  process.exitCode = 1;
} finally {
  if (process.env.KEEP === '1') console.log(`consumer: kept ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
