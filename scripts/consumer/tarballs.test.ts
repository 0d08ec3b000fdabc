// What each published tarball holds, and that the @coffer packages here came from those tarballs.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = process.env.COFFER_TARBALLS;
if (!dir) throw new Error('COFFER_TARBALLS is not set: run this through scripts/consumer-test.mjs');
const tarballs = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
const tar = (file: string, ...args: string[]) => execFileSync('tar', [...args, '-f', join(dir, file)], { encoding: 'utf8', maxBuffer: 64 << 20 });

// Tests, test logs and reports, build output of a machine (node-gyp's build/, .node binaries),
// TypeScript's incremental state and benchmarks have no place in a package.
const FORBIDDEN = /(^|\/)(test|tests|__tests__|build|coverage|bench)\/|\.test\.[cm]?[jt]s$|\.node$|\.log$|test-results\.json$|\.tsbuildinfo$|\.o$/;

it('packs every published package', () => {
  expect(tarballs.length).toBeGreaterThanOrEqual(8);
});

describe.each(tarballs)('%s', (file) => {
  const entries = tar(file, '-tz').trim().split('\n');
  const pkg = JSON.parse(tar(file, '-xzO', 'package/package.json'));

  it('holds no tests, logs or machine-built binaries', () => {
    expect(entries.filter((e) => FORBIDDEN.test(e))).toEqual([]);
  });

  it('carries the Apache-2.0 license and a README', () => {
    expect(entries).toEqual(expect.arrayContaining(['package/LICENSE', 'package/README.md', 'package/package.json']));
    const license = tar(file, '-xzO', 'package/LICENSE');
    expect(license).toContain('Apache License');
    expect(license).toContain('Version 2.0, January 2004');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(license.length).toBeGreaterThan(10_000); // the full text, not a pointer to it
    expect(pkg.license).toBe('Apache-2.0');
  });

  it('is publishable: not private, versioned, public, with engines', () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.publishConfig).toMatchObject({ access: 'public' });
    expect(pkg.engines).toEqual({ node: '>=20.19' });
  });

  it('names its dependencies by version: pnpm pack rewrote workspace: and catalog:', () => {
    expect(JSON.stringify(pkg)).not.toMatch(/workspace:|catalog:/);
  });

  it('ships every file its exports and bin point at (addons excepted: they build at install)', () => {
    const targets: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') targets.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(pkg.exports);
    walk(pkg.bin);
    const shipped = targets.filter((t) => !t.startsWith('./build/'));
    expect(shipped.length).toBeGreaterThan(0);
    for (const t of shipped) expect(entries, t).toContain(`package/${t.replace(/^\.\//, '')}`);
    for (const [, cond] of Object.entries(pkg.exports ?? {})) {
      if (cond && typeof cond === 'object' && 'types' in cond) expect(String(cond.types)).toMatch(/\.d\.ts$/);
    }
  });
});

it('every @coffer package in node_modules came from a tarball, none from a registry', () => {
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { resolved?: string }> };
  const coffer = Object.entries(lock.packages).filter(([path]) => /(^|\/)node_modules\/@coffer\//.test(path));
  expect(coffer.length).toBe(tarballs.length);
  for (const [path, entry] of coffer) expect(entry.resolved, path).toMatch(/^file:/);
});
