// Chunked backups on the cloud backends, through the built CLI: S3 (moto_server) and Google Drive
// (the fake Drive API). The local backend runs the same steps in e2e-chunked.test.ts.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAKE_DRIVE_CREDENTIALS, FakeDrive, startMoto, TEST_CREDENTIALS, type S3Server } from '@coffer/storage-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cofferRun, expectedTree, snapshot, workspace } from './helpers.js';

let moto: S3Server;
const fake = new FakeDrive();
let driveRoot: string;
beforeAll(async () => {
  moto = await startMoto();
  driveRoot = await fake.listen();
});
afterAll(async () => {
  await moto.stop();
  fake.close();
});

process.env.COFFER_TEST_KEY_ID = TEST_CREDENTIALS.accessKeyId;
process.env.COFFER_TEST_SECRET = TEST_CREDENTIALS.secretAccessKey;
const chunker = 'format: chunked, chunker: { minKiB: 16, avgKiB: 64, maxKiB: 256 }';
const destinations = {
  s3: () => `  - { name: cloud, type: s3, bucket: ${moto.bucket}, prefix: "chunked-${Date.now()}/", endpoint: "${moto.endpoint}", forcePathStyle: true, accessKeyIdEnv: COFFER_TEST_KEY_ID, secretAccessKeyEnv: COFFER_TEST_SECRET, ${chunker} }`,
  drive: () => `  - { name: cloud, type: drive, folder: appDataFolder, credentialsFile: ./drive-credentials.json, chunkSizeMiB: 1, apiRoot: "${driveRoot}", tokenUrl: "${driveRoot}/token", ${chunker} }`,
};
const run = (dir: string, args: string[]) => cofferRun([...args, '--config', 'coffer.yaml'], { cwd: dir });

describe.each(['s3', 'drive'] as const)('chunked backups on %s', (kind) => {
  it('upload only what changed, rotate and collect, verify and restore', async () => {
    const dir = workspace({ destinations: [destinations[kind]()] });
    writeFileSync(join(dir, 'drive-credentials.json'), JSON.stringify(FAKE_DRIVE_CREDENTIALS), { mode: 0o600 });
    for (let i = 3; i < 12; i++) writeFileSync(join(dir, 'chat', 'Media', 'Images', `IMG-${i}.jpg`), randomBytes(200_000));
    expect((await run(dir, ['init'])).code).toBe(0);
    const first = await run(dir, ['backup']);
    expect(first.code, first.stderr).toBe(0);
    writeFileSync(join(dir, 'chat', 'msgstore.db'), randomBytes(300_000));
    const second = await run(dir, ['backup']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/removed \d+ chunks? no backup of chats needs/);
    const [row] = JSON.parse((await run(dir, ['list', '--json'])).stdout) as { format: string; generation: number; objects: number; uploaded: number; size: number }[];
    expect(row).toMatchObject({ format: 'chunked', generation: 2 });
    // The second backup sent the changed database's chunks, not the 2.5 MB source.
    expect(row!.uploaded).toBeLessThan(1_000_000);
    expect((await run(dir, ['verify'])).code).toBe(0);
    const restored = await run(dir, ['restore', '--to', 'out']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(snapshot(join(dir, 'out'))).toEqual(expectedTree(dir));
  });
});
