// The optional addons: built from their C source when the packages were installed; and where that
// build fails (no working compiler), the install still succeeds and the JavaScript fallback runs.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { batchIoAddon } from '@coffer/batch-io';
import { describeSealing } from '@coffer/crypto';
import { afterAll, expect, it } from 'vitest';

it('npm install built both addons from source', () => {
  expect(existsSync('node_modules/@coffer/crypto/build/Release/coffer_native.node')).toBe(true);
  expect(existsSync('node_modules/@coffer/batch-io/build/Release/batch_io.node')).toBe(true);
  expect(describeSealing()).toMatch(/^the native batcher/);
  expect(batchIoAddon).not.toBeNull();
});

const scratch = mkdtempSync(join(process.cwd(), 'no-compiler-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('without a C compiler, installing warns and encryption falls back to node:crypto', () => {
  // The installed package, as its tarball unpacked (no build/), installed again with a compiler that fails.
  const copy = join(scratch, 'node_modules', '@coffer', 'crypto');
  cpSync('node_modules/@coffer/crypto', copy, { recursive: true });
  rmSync(join(copy, 'build'), { recursive: true, force: true });
  const install = spawnSync('npm', ['run', 'install'], { cwd: copy, env: { ...process.env, CC: 'false', CXX: 'false' }, encoding: 'utf8' });
  expect(install.status, install.stderr).toBe(0);
  expect(install.stderr).toContain('coffer: the native STREAM batcher did not build; sealing falls back to node:crypto');
  expect(existsSync(join(copy, 'build', 'Release', 'coffer_native.node'))).toBe(false);

  const roundTrip = `
    import { Readable } from 'node:stream';
    import { text } from 'node:stream/consumers';
    import { createDecryptStream, createEncryptStream, deriveKeyMaterial, describeSealing, generateBackupKey } from ${JSON.stringify(join(copy, 'dist', 'index.js'))};
    const keys = deriveKeyMaterial(generateBackupKey());
    const meta = { backupId: 'b', source: 's', createdAt: '2026-12-04T00:00:00Z', generation: 1 };
    const sealed = Readable.from([Buffer.alloc(300_000, 'x')]).pipe(createEncryptStream({ key: keys, metadata: meta }));
    const back = await text(sealed.pipe(createDecryptStream(keys)));
    console.log(describeSealing() + ' | ' + back.length);`;
  const probe = spawnSync(process.execPath, ['--input-type=module', '-e', roundTrip], { encoding: 'utf8' });
  expect(probe.stderr).toBe('');
  expect(probe.stdout.trim()).toBe('node:crypto on the main thread (the native batcher is not built, or COFFER_NATIVE=0) | 300000');
});
