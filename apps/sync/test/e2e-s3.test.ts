import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaultProxy, startMoto, TEST_CREDENTIALS, type S3Server } from '@coffer/storage-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coffer, cofferAsync, cofferRun, snapshot, workspace, expectedTree } from './helpers.js';

let moto: S3Server;
let proxy: FaultProxy;
let proxied: string;
let bucketNo = 0;
beforeAll(async () => {
  moto = await startMoto();
  proxy = new FaultProxy(moto.endpoint);
  proxied = await proxy.listen();
});
afterAll(async () => {
  await proxy.close();
  await moto.stop();
});

// Children inherit these, `list` helpers included; the config names them, never their values.
process.env.COFFER_TEST_KEY_ID = TEST_CREDENTIALS.accessKeyId;
process.env.COFFER_TEST_SECRET = TEST_CREDENTIALS.secretAccessKey;
// Retries as shipped, with short waits (README: Retries and timeouts).
const env = { COFFER_RETRY_BASE_MS: '5', COFFER_RETRY_MAX_MS: '50' };
const s3Destination = (endpoint: string, name = 's3') =>
  `  - { name: ${name}, type: s3, bucket: ${moto.bucket}, prefix: "e2e-${++bucketNo}/", endpoint: "${endpoint}", forcePathStyle: true, partSizeMiB: 5, accessKeyIdEnv: COFFER_TEST_KEY_ID, secretAccessKeyEnv: COFFER_TEST_SECRET }`;
// Asynchronous: the fault proxy runs in this process and must keep serving while the CLI runs.
const run = (dir: string, args: string[]) => cofferRun([...args, '--config', 'coffer.yaml'], { cwd: dir, env });
async function listJson(dir: string): Promise<{ id: string; destination: string; generation: number }[]> {
  const r = await run(dir, ['list', '--json']);
  if (r.code !== 0) throw new Error(`list failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('coffer CLI against S3 (moto_server)', () => {
  it('backs up, lists, verifies, rotates and restores', async () => {
    const dir = workspace({ destinations: [s3Destination(moto.endpoint)] });
    expect((await run(dir, ['init'])).code).toBe(0);
    for (let i = 0; i < 2; i++) {
      writeFileSync(join(dir, 'chat', 'msgstore.db'), `v${i}`);
      const b = await run(dir, ['backup']);
      expect(b.code, b.stderr).toBe(0);
    }
    expect((await listJson(dir)).map((b) => [b.destination, b.generation])).toEqual([['s3', 2]]);
    expect((await run(dir, ['verify'])).code).toBe(0);
    expect((await run(dir, ['restore', '--to', 'out'])).code).toBe(0);
    expect(snapshot(join(dir, 'out'))).toEqual(expectedTree(dir));
  });

  it('two destinations at once: local disk and S3, from one read of the source', async () => {
    const dir = workspace({ destinations: ['  - { name: disk, type: local, path: ./backups }', s3Destination(moto.endpoint)] });
    expect((await run(dir, ['init'])).code).toBe(0);
    expect((await run(dir, ['backup'])).code).toBe(0);
    const listed = await listJson(dir);
    expect(listed.map((b) => b.destination).sort()).toEqual(['disk', 's3']);
    expect(new Set(listed.map((b) => b.id)).size).toBe(1);
    expect((await run(dir, ['restore', '--destination', 's3', '--to', 'out'])).code).toBe(0);
    expect(snapshot(join(dir, 'out'))).toEqual(expectedTree(dir));
  });

  it('a storm of 503 SlowDown and 500 errors is ridden out', async () => {
    const dir = workspace({ destinations: [s3Destination(proxied)] });
    expect((await run(dir, ['init'])).code).toBe(0);
    proxy.rule = ({ n }) => (n % 3 === 0 ? { status: 503, code: 'SlowDown', headers: { 'retry-after': '0' } } : n % 5 === 0 ? { status: 500, code: 'InternalError' } : 'pass');
    try {
      const b = await run(dir, ['backup']);
      expect(b.code, b.stderr).toBe(0);
    } finally {
      proxy.rule = () => 'pass';
    }
    expect(proxy.log.some((l) => l.status === 503)).toBe(true);
    expect((await run(dir, ['verify'])).code).toBe(0);
  });

  it('a persistent 500 on S3 fails that destination clearly; the local one completes', async () => {
    const dir = workspace({ destinations: ['  - { name: disk, type: local, path: ./backups }', s3Destination(proxied)] });
    expect((await run(dir, ['init'])).code).toBe(0);
    proxy.rule = ({ method }) => (method === 'PUT' || method === 'POST' ? { status: 500, code: 'InternalError' } : 'pass');
    try {
      const b = await run(dir, ['backup']);
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(/backup of chats to s3 failed: .*temporary provider or network failure/);
      expect(b.stderr).toContain('uploaded to disk and verified');
    } finally {
      proxy.rule = () => 'pass';
    }
    expect((await listJson(dir)).map((b) => b.destination)).toEqual(['disk']);
  });

  it('credentials revoked mid-run: a clear error, and the previous backup stays', async () => {
    const dir = workspace({ destinations: [s3Destination(proxied)] });
    expect((await run(dir, ['init'])).code).toBe(0);
    expect((await run(dir, ['backup'])).code).toBe(0);
    const before = await listJson(dir);
    writeFileSync(join(dir, 'chat', 'msgstore.db'), 'changed');
    // Revoke once the upload has started: listing works, the first write is refused.
    proxy.rule = ({ method }) => (method === 'PUT' || method === 'POST' ? { status: 403, code: 'InvalidAccessKeyId' } : 'pass');
    try {
      const b = await run(dir, ['backup']);
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(/backup of chats to s3 failed: .*the credentials were refused \(expired, revoked or wrong\)/);
      expect(b.stderr).not.toContain(TEST_CREDENTIALS.secretAccessKey);
    } finally {
      proxy.rule = () => 'pass';
    }
    expect((await listJson(dir))).toEqual(before);
    expect((await run(dir, ['verify'])).code).toBe(0);
  });

  it('Ctrl-C during a multipart upload to S3 and disk: a clear message, no backup listed, no upload left open', async () => {
    const s3 = s3Destination(proxied);
    const dir = workspace({ destinations: ['  - { name: disk, type: local, path: ./backups }', s3] });
    for (let i = 0; i < 4; i++) writeFileSync(join(dir, 'chat', `video-${i}.mp4`), randomBytes(8 << 20));
    expect((await run(dir, ['init'])).code).toBe(0);
    const child = cofferAsync(['backup', '--config', 'coffer.yaml'], { cwd: dir, env });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    // Interrupted the moment S3 receives the second part: both uploads are under way.
    proxy.rule = ({ method, url }) => {
      if (method === 'PUT' && url.searchParams.get('partNumber') === '2') child.kill('SIGINT');
      return 'pass';
    };
    try {
      expect(await exited).toBe(130);
    } finally {
      proxy.rule = () => 'pass';
    }
    expect(stderr.trim()).toBe('coffer: backup of chats was interrupted');
    expect(await listJson(dir)).toEqual([]);
    expect(readdirSync(join(dir, 'backups', '.coffer-incomplete'))).toEqual([]);
    const prefix = /prefix: "([^"]+)"/.exec(s3)![1];
    const uploads = await (await fetch(`${moto.endpoint}/${moto.bucket}?uploads&prefix=${prefix}`)).text();
    expect(uploads).toContain('<ListMultipartUploadsResult');
    expect(uploads).not.toContain('<Upload>');
    // The next run completes.
    expect((await run(dir, ['backup'])).code).toBe(0);
    expect((await listJson(dir)).map((b) => b.destination).sort()).toEqual(['disk', 's3']);
  });

  it('a missing credential variable is a clear config error', async () => {
    const dir = workspace({ destinations: [s3Destination(moto.endpoint)] });
    writeFileSync(join(dir, 'coffer.key'), '');
    const r = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir, env: { COFFER_TEST_KEY_ID: '', COFFER_TEST_SECRET: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('coffer: destination "s3": environment variable COFFER_TEST_KEY_ID is not set');
  });

  it('an unreachable provider is reported, not hidden', async () => {
    const dir = workspace({ destinations: [s3Destination('http://127.0.0.1:9')] });
    expect((await run(dir, ['init'])).code).toBe(0);
    const r = await run(dir, ['backup']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/backup of chats to s3 failed: .*cannot reach s3 \(connection refused to 127\.0\.0\.1:9\)/);
    expect(readFileSync(join(dir, 'coffer.key'), 'utf8')).toContain('coffer-backup-key-v1');
  });
});
