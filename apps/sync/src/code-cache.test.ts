import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeCachePath, compileCommonJs } from './code-cache.js';

function script(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-code-cache-'));
  mkdirSync(join(dir, 'node_modules', 'beside'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'beside', 'index.js'), 'module.exports = "found beside the script";');
  const file = join(dir, 'script.cjs');
  writeFileSync(file, source);
  return file;
}

const DIST = new URL('../dist/', import.meta.url).pathname;

/**
 * How a fresh `node` compiles `file`: V8 would answer from this process's own compilation of a
 * source it has seen, whatever the cache holds. The dist build of this module is the one run.
 */
function stateInChild(file: string): string {
  const code = `process.stdout.write(require(${JSON.stringify(`${DIST}code-cache.js`)}).compileCommonJs(${JSON.stringify(file)}).state)`;
  return execFileSync(process.execPath, ['-e', code]).toString();
}

const SOURCE = `exports.where = require('beside'); exports.file = __filename; exports.twice = (n) => n * 2;`;

describe('compileCommonJs', () => {
  it('runs a CommonJS file as require() would: its require, __filename and exports', () => {
    const file = script(SOURCE);
    const compiled = compileCommonJs(file);
    expect(compiled.state).toBe('absent');
    const exports = compiled.run() as { where: string; file: string; twice: (n: number) => number };
    expect(exports).toMatchObject({ where: 'found beside the script', file });
    expect(exports.twice(21)).toBe(42);
  });

  it('a new process compiles from the cache it saved', () => {
    const file = script(SOURCE);
    const first = compileCommonJs(file);
    (first.run() as { twice: (n: number) => number }).twice(1);
    first.save();
    expect(existsSync(codeCachePath(file))).toBe(true);
    // No temporary file is left beside it.
    expect(readdirSync(join(file, '..')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(stateInChild(file)).toBe('used');
  });

  it('compiles from source when the cache is stale or damaged', () => {
    const file = script(SOURCE);
    compileCommonJs(file).save();
    writeFileSync(file, SOURCE.replace('n * 2', 'n * 3 '));
    const stale = compileCommonJs(file);
    expect(stale.state).toBe('rejected');
    expect((stale.run() as { twice: (n: number) => number }).twice(4)).toBe(12);

    // A new source: V8 would otherwise reuse this process's own compilation of the one above.
    writeFileSync(file, SOURCE.replace('n * 2', 'n * 4 '));
    writeFileSync(codeCachePath(file), Buffer.from('not a V8 code cache'));
    const damaged = compileCommonJs(file);
    expect(damaged.state).toBe('rejected');
    expect((damaged.run() as { twice: (n: number) => number }).twice(4)).toBe(16);
  });

  it('the built CLI has a cache this Node accepts (the build made it, the launcher uses it)', () => {
    expect(stateInChild(`${DIST}bundle/cli.cjs`)).toBe('used');
  });
});
