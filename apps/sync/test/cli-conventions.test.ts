import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coffer, workspace } from './helpers.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('CLI conventions', () => {
  it('--version, -V and `coffer version` print the version and exit 0', () => {
    const dir = workspace();
    for (const args of [['--version'], ['-V'], ['version']]) {
      const r = coffer(args, { cwd: dir });
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toBe(`coffer ${version}\n`);
    }
  });
});
