import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FaultProxy, ResetProxy, startMoto, TEST_CREDENTIALS, type FaultRequest, type S3Server } from '@coffer/storage-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cofferRun, workspace } from './helpers.js';

// The built CLI against a real S3 server (moto) behind a proxy that injects faults. Retries are
// made fast through COFFER_RETRY_BASE_MS; everything else is what ships.
let moto: S3Server;
let proxy: FaultProxy;
let proxied: string;
let prefixNo = 0;
beforeAll(async () => {
  moto = await startMoto();
  proxy = new FaultProxy(moto.endpoint);
  proxied = await proxy.listen();
});
afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});

process.env.COFFER_TEST_KEY_ID = TEST_CREDENTIALS.accessKeyId;
process.env.COFFER_TEST_SECRET = TEST_CREDENTIALS.secretAccessKey;
const env = { COFFER_RETRY_BASE_MS: '5', COFFER_RETRY_MAX_MS: '50' };
const s3Destination = (endpoint: string, bucket = moto.bucket) =>
  `  - { name: s3, type: s3, bucket: ${bucket}, prefix: "faults-${++prefixNo}/", endpoint: "${endpoint}", forcePathStyle: true, partSizeMiB: 5, accessKeyIdEnv: COFFER_TEST_KEY_ID, secretAccessKeyEnv: COFFER_TEST_SECRET }`;
const run = (dir: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) => cofferRun([...args, '--config', 'coffer.yaml'], { cwd: dir, env: { ...env, ...extraEnv } });

/** The kind of S3 request a proxied request is (path-style URLs: /bucket/key). */
export function requestKind({ method, url }: Pick<FaultRequest, 'method' | 'url'>): string {
  const q = url.searchParams;
  const onObject = url.pathname.split('/').filter(Boolean).length > 1;
  if (method === 'HEAD') return 'stat';
  if (method === 'GET') return q.has('uploads') ? 'list-uploads' : !onObject ? 'list' : 'get';
  if (method === 'PUT') return q.has('partNumber') ? 'part' : 'put';
  if (method === 'POST') return q.has('uploads') ? 'create' : 'complete';
  if (method === 'DELETE') return q.has('uploadId') ? 'abort' : 'delete';
  return method;
}

/** Fails the first `times` requests of each kind with `decision`, then lets everything through. */
function burst(times: number, decision: (kind: string) => ReturnType<FaultProxy['rule']>) {
  const seen = new Map<string, number>();
  proxy.rule = (req) => {
    const kind = requestKind(req);
    const n = (seen.get(kind) ?? 0) + 1;
    seen.set(kind, n);
    return n <= times ? decision(kind) : 'pass';
  };
  return seen;
}

describe('coffer CLI against S3 under faults (moto behind a fault proxy)', () => {
  it('five 503 SlowDown in a row on every kind of request: each is retried and the backups complete', async () => {
    const dir = workspace({ destinations: [s3Destination(proxied)] });
    expect((await run(dir, ['init'])).code).toBe(0);
    // More than one 5 MiB part: a multipart upload (create, parts, complete).
    writeFileSync(join(dir, 'chat', 'video.mp4'), randomBytes(6 << 20));
    const seen = burst(5, () => ({ status: 503, code: 'SlowDown' }));
    try {
      const first = await run(dir, ['backup']);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toMatch(/retrying put part \d of coffer\/chats\/\S+\.age in \d+\.\d s \(SlowDown 503\), attempt 2\/8/);
      // A small backup is one PutObject; retention then deletes the first backup.
      rmSync(join(dir, 'chat', 'video.mp4'));
      const second = await run(dir, ['backup']);
      expect(second.code, second.stderr).toBe(0);
      const verify = await run(dir, ['verify']);
      expect(verify.code, verify.stderr).toBe(0);
      const list = await run(dir, ['list', '--json']);
      expect(list.code, list.stderr).toBe(0);
      expect(JSON.parse(list.stdout).map((b: { generation: number }) => b.generation)).toEqual([2]);
    } finally {
      proxy.rule = () => 'pass';
    }
    for (const kind of ['create', 'part', 'complete', 'put', 'list', 'get', 'stat', 'delete']) expect(seen.get(kind), kind).toBeGreaterThan(5);
  });
});
