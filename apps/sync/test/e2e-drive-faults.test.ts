import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FAKE_DRIVE_CREDENTIALS, FakeDrive, type DriveFault } from '@coffer/storage-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cofferRun, workspace } from './helpers.js';

// The built CLI against the fake Drive on loopback (as e2e-drive.test.ts), with faults injected.
const fake = new FakeDrive();
let root: string;
beforeAll(async () => {
  root = await fake.listen();
});
afterAll(() => fake.close());

const env = { COFFER_RETRY_BASE_MS: '5', COFFER_RETRY_MAX_MS: '50' };
const driveDestination = (folder = 'Coffer Faults', credentials = './drive-credentials.json') =>
  `  - { name: drive, type: drive, folder: "${folder}", credentialsFile: ${credentials}, chunkSizeMiB: 1, apiRoot: "${root}", tokenUrl: "${root}/token" }`;
const run = (dir: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) => cofferRun([...args, '--config', 'coffer.yaml'], { cwd: dir, env: { ...env, ...extraEnv } });
const withCredentials = (dir: string) => writeFileSync(join(dir, 'drive-credentials.json'), JSON.stringify(FAKE_DRIVE_CREDENTIALS), { mode: 0o600 });
let folderNo = 0;
const freshWorkspace = () => {
  const dir = workspace({ destinations: [driveDestination(`Coffer Faults ${++folderNo}`)] });
  withCredentials(dir);
  return dir;
};

describe('coffer CLI against Google Drive under faults (fake Drive)', () => {
  it('a missing credentials file is one clear line, not an internal error', async () => {
    const dir = workspace({ destinations: [driveDestination('x', './missing-credentials.json')] });
    expect((await run(dir, ['init'])).code).toBe(0);
    for (const command of ['backup', 'list', 'verify']) {
      const r = await run(dir, [command]);
      expect(r.code, command).toBe(1);
      expect(r.stderr.trim(), command).toMatch(/^coffer: Drive credentials \/\S+\/missing-credentials\.json: no such file \(run `coffer auth drive`\)$/);
    }
  });
});
