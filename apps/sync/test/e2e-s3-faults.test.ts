import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
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

  it('bursts of 500 and 429 are retried, and a Retry-After is honoured', async () => {
    const dir = workspace({ destinations: [s3Destination(proxied)] });
    expect((await run(dir, ['init'])).code).toBe(0);
    let first = true;
    burst(5, () => {
      if (first) {
        first = false;
        return { status: 429, code: 'TooManyRequests', headers: { 'retry-after': '1' } };
      }
      return Math.random() < 0.5 ? { status: 500, code: 'InternalError' } : { status: 429, code: 'TooManyRequests' };
    });
    try {
      const b = await run(dir, ['backup']);
      expect(b.code, b.stderr).toBe(0);
      // The provider asked for 1 s; the configured backoff alone is at most 50 ms.
      expect(b.stderr).toMatch(/retrying list of coffer\/chats\/ in 1\.0 s \(TooManyRequests 429\), attempt 2\/8/);
    } finally {
      proxy.rule = () => 'pass';
    }
    expect((await run(dir, ['verify'])).code).toBe(0);
  });

  it('connections reset in the middle of request bodies: each request is sent again and the backup completes', async () => {
    const target = new URL(moto.endpoint);
    const resets = new ResetProxy({ host: target.hostname, port: Number(target.port) }, /^PUT /, 1 << 20);
    const endpoint = await resets.listen();
    try {
      const dir = workspace({ destinations: [s3Destination(endpoint)] });
      expect((await run(dir, ['init'])).code).toBe(0);
      writeFileSync(join(dir, 'chat', 'video.mp4'), randomBytes(6 << 20));
      resets.armed = 5;
      const b = await run(dir, ['backup']);
      expect(b.code, b.stderr).toBe(0);
      expect(resets.resets).toBe(5);
      expect(b.stderr).toMatch(/retrying put part \d of \S+ in \d+\.\d s \(ECONNRESET\)/);
      expect((await run(dir, ['verify'])).code).toBe(0);
    } finally {
      await resets.close();
    }
  });

  it('a stalled socket times out and is retried: uploads, listings and downloads', async () => {
    const dir = workspace({ destinations: [s3Destination(proxied)] });
    expect((await run(dir, ['init'])).code).toBe(0);
    const stalled = new Set<string>();
    proxy.rule = (req) => {
      const kind = requestKind(req);
      if (!['list', 'put', 'get'].includes(kind) || stalled.has(kind)) return 'pass';
      stalled.add(kind);
      return 'stall';
    };
    try {
      const b = await run(dir, ['backup'], { COFFER_STORAGE_TIMEOUT_MS: '1000' });
      expect(b.code, b.stderr).toBe(0);
      expect(b.stderr).toMatch(/retrying put of \S+ in \d+\.\d s \(ETIMEDOUT\)/);
      expect([...stalled].sort()).toEqual(['get', 'list', 'put']);
    } finally {
      proxy.rule = () => 'pass';
    }
  });

  it('permanent errors are never retried: 403 AccessDenied on a part, and a bucket that does not exist', async () => {
    const dir = workspace({ destinations: [s3Destination(proxied)] });
    expect((await run(dir, ['init'])).code).toBe(0);
    writeFileSync(join(dir, 'chat', 'video.mp4'), randomBytes(6 << 20));
    const seen = burst(1000, (kind) => (kind === 'part' ? { status: 403, code: 'AccessDenied' } : 'pass'));
    try {
      const b = await run(dir, ['backup']);
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(/^error: backup of chats to s3 failed: \S+: access denied for coffer\/chats\/\S+ \(AccessDenied 403\)$/m);
      expect(b.stderr).not.toContain('retrying');
      expect(seen.get('part')).toBeLessThanOrEqual(2); // the parts in flight at once, none sent twice
      expect(seen.get('abort')).toBe(1); // and the multipart upload was aborted: nothing half-made stays
    } finally {
      proxy.rule = () => 'pass';
    }
    expect(JSON.parse((await run(dir, ['list', '--json'])).stdout)).toEqual([]);

    const missing = workspace({ destinations: [s3Destination(proxied, 'coffer-no-such-bucket')] });
    expect((await run(missing, ['init'])).code).toBe(0);
    const requests = proxy.log.length;
    const b = await run(missing, ['backup']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/backup of chats to s3 failed: \S+: the bucket does not exist for coffer\/chats\/\S+ \(NoSuchBucket 404\)/);
    expect(b.stderr).not.toContain('retrying');
    expect(proxy.log.slice(requests).filter((l) => l.status === 404).length).toBeLessThanOrEqual(3);
  });

  it('credentials that expire between two runs: one clear line with the provider’s reason, not retried; renewed, the next run completes', async () => {
    const dir = workspace({ destinations: [s3Destination(proxied)] });
    expect((await run(dir, ['init'])).code).toBe(0);
    expect((await run(dir, ['backup'])).code).toBe(0);
    writeFileSync(join(dir, 'chat', 'msgstore.db'), randomBytes(1000));
    const seen = burst(1_000_000, () => ({ status: 400, code: 'ExpiredToken' }));
    try {
      const b = await run(dir, ['backup']);
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(/ExpiredToken/);
      expect(b.stderr).not.toContain('retrying');
      expect(b.stderr).not.toMatch(/\n\s+at /);
      expect([...seen.values()].every((n) => n <= 2)).toBe(true);
    } finally {
      proxy.rule = () => 'pass';
    }
    // Renewed: the earlier backup is still there, and the next run completes and rotates it away.
    const before = JSON.parse((await run(dir, ['list', '--json'])).stdout) as { generation: number }[];
    expect(before.map((b) => b.generation)).toEqual([1]);
    expect((await run(dir, ['backup'])).code).toBe(0);
    expect((JSON.parse((await run(dir, ['list', '--json'])).stdout) as { generation: number }[]).map((b) => b.generation)).toEqual([2]);
  });

  it('restore, verify and list name a provider that cannot be reached, and exit 1 (not "no backup")', async () => {
    const dir = workspace({ destinations: [s3Destination('http://127.0.0.1:9')] });
    expect((await run(dir, ['init'])).code).toBe(0);
    for (const args of [['restore', '--to', 'out'], ['verify'], ['list']]) {
      const r = await run(dir, args, { COFFER_RETRY_ATTEMPTS: '2' });
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr, args[0]).toMatch(/^(coffer|error): destination s3: (cannot list backups: )?\S+: cannot reach s3 \(connection refused to 127\.0\.0\.1:9\)$/m);
      expect(r.stderr, args[0]).not.toMatch(/no backup/);
      expect(r.stdout, args[0]).not.toMatch(/no backups/);
    }
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('access denied while listing is named by restore, not taken for "no backup"', async () => {
    const dir = workspace({ destinations: [s3Destination(proxied)] });
    expect((await run(dir, ['init'])).code).toBe(0);
    const seen = burst(1000, (kind) => (kind === 'list' ? { status: 403, code: 'AccessDenied' } : 'pass'));
    try {
      const r = await run(dir, ['restore', '--to', 'out']);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/^coffer: destination s3: cannot list backups: \S+: access denied for coffer\/ \(AccessDenied 403\)$/);
      expect(seen.get('list')).toBe(1);
    } finally {
      proxy.rule = () => 'pass';
    }
  });
});

describe('a full disk is permanent too (local destination on a 1 MiB tmpfs)', () => {
  it('disk full (ENOSPC) fails at once with one clear line, and nothing is listed', async () => {
    const dir = workspace();
    const disk = join(dir, 'backups');
    mkdirSync(disk);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk], { encoding: 'utf8' });
    // A peer like moto: missing is a failure, not a skip (CI runs as root, with mount).
    expect(mount.status, `this test needs root and mount(8) for a small tmpfs: ${mount.stderr}`).toBe(0);
    try {
      writeFileSync(join(dir, 'chat', 'video.mp4'), randomBytes(2 << 20));
      expect((await run(dir, ['init'])).code).toBe(0);
      const b = await run(dir, ['backup']);
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(/^error: backup of chats to disk failed: local:\S+: the disk is full \(coffer\/chats\/\S+\.age\)$/m);
      expect(b.stderr).not.toContain('retrying');
      expect(readdirSync(join(disk, '.coffer-incomplete'))).toEqual([]);
    } finally {
      spawnSync('umount', [disk]);
    }
  });
});
