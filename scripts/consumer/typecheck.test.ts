// The published types, as a consumer's compiler sees them: this folder's tests and every README
// example typecheck under moduleResolution node16 and under bundler; under node16 so does every
// .d.ts of the @coffer packages (skipLibCheck off). Errors inside third-party declarations are not
// ours to fix and are left out (google-auth-library's, under node16).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { expect, it } from 'vitest';

it('finds README examples to check', () => {
  expect(readdirSync('readme').length).toBeGreaterThanOrEqual(7);
});

it.each(['node16', 'bundler'])('typechecks under moduleResolution %s', (resolution) => {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', `tsconfig.${resolution}.json`], { encoding: 'utf8' });
  const errors = (tsc.stdout + tsc.stderr).split('\n').filter((line) => /error TS\d+/.test(line));
  const ours = errors.filter((line) => !line.startsWith('node_modules/') || line.startsWith('node_modules/@coffer/'));
  expect(ours).toEqual([]);
  expect(tsc.status === 0 || errors.length > 0, tsc.stdout + tsc.stderr).toBe(true);
});
