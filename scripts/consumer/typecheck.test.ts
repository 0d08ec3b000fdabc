// The published types, as a consumer's compiler sees them: this folder's tests and every README
// example typecheck under moduleResolution node16 and under bundler.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { expect, it } from 'vitest';

it('finds README examples to check', () => {
  expect(readdirSync('readme').length).toBeGreaterThanOrEqual(7);
});

it.each(['node16', 'bundler'])('typechecks under moduleResolution %s', (resolution) => {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', `tsconfig.${resolution}.json`], { encoding: 'utf8' });
  expect(tsc.stdout + tsc.stderr).toBe('');
  expect(tsc.status).toBe(0);
});
