import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FAKE_DRIVE_CREDENTIALS, FakeDrive, FaultProxy, freePort, LENIENT, type DriveFault } from '@coffer/storage-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coffer, cofferAsync, cofferRun, until, workspace } from './helpers.js';

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
    for (const command of ['backup', 'verify']) {
      const r = await run(dir, [command]);
      expect(r.code, command).toBe(1);
      expect(r.stderr.trim(), command).toMatch(/^coffer: Drive credentials \/\S+\/missing-credentials\.json: no such file \(run `coffer auth drive`\)$/);
    }
  });

  it('five 503/500/429 in a row on every kind of request: each is retried and the backup completes', async () => {
    const dir = freshWorkspace();
    writeFileSync(join(dir, 'chat', 'video.mp4'), randomBytes(3 << 20)); // several 1 MiB chunks
    expect((await run(dir, ['init'])).code).toBe(0);
    expect((await run(dir, ['backup'])).code).toBe(0); // an older backup, for retention to delete
    writeFileSync(join(dir, 'chat', 'msgstore.db'), 'changed');
    const kinds: Record<string, DriveFault['match']> = {
      'start upload': ({ method, url }) => method === 'POST' && url.pathname === '/upload/drive/v3/files',
      chunk: ({ method, url }) => method === 'PUT' && url.pathname === '/upload/drive/v3/files',
      list: ({ method, url }) => method === 'GET' && url.pathname === '/drive/v3/files',
      get: ({ method, url }) => method === 'GET' && url.pathname.startsWith('/drive/v3/files/'),
      delete: ({ method }) => method === 'DELETE',
    };
    const injected: DriveFault[] = [];
    for (const match of Object.values(kinds)) {
      for (const [status, reason] of [[503, 'backendError'], [500, 'internalError'], [429, 'rateLimitExceeded'], [503, 'backendError'], [500, 'backendError']] as const) {
        const fault = { match, times: 1, status, reason };
        injected.push(fault);
        fake.inject(fault);
      }
    }
    const b = await run(dir, ['backup']);
    expect(b.code, b.stderr).toBe(0);
    expect(injected.filter((f) => f.times > 0)).toEqual([]); // every fault was met, and ridden out
    expect(b.stderr).toMatch(/retrying put part \d of coffer\/chats\/\S+ in \d+\.\d s \(backendError 503\), attempt 2\/8/);
    expect(b.stderr).toMatch(/removed 1 older backup/);
    expect((await run(dir, ['verify'])).code).toBe(0);
  });

  it('403 rateLimitExceeded and userRateLimitExceeded back off (Retry-After honoured) and the backup completes', async () => {
    const dir = freshWorkspace();
    expect((await run(dir, ['init'])).code).toBe(0);
    const chunk = ({ method, url }: { method: string; url: URL }) => method === 'PUT' && url.pathname.startsWith('/upload');
    fake.inject({ match: chunk, times: 2, status: 403, reason: 'userRateLimitExceeded' });
    fake.inject({ match: chunk, times: 1, status: 403, reason: 'rateLimitExceeded', retryAfter: 1 });
    const b = await run(dir, ['backup']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/\(userRateLimitExceeded 403\), attempt 2\/8/);
    expect(b.stderr).toMatch(/in 1\.0 s \(rateLimitExceeded 403\), attempt 4\/8/);
  });

  it('an access token that expires mid-upload is refreshed (401), and the upload goes on', async () => {
    const dir = freshWorkspace();
    writeFileSync(join(dir, 'chat', 'video.mp4'), randomBytes(3 << 20));
    expect((await run(dir, ['init'])).code).toBe(0);
    let chunks = 0;
    // A "fault" that never fails a request: it expires every token as the second chunk arrives.
    fake.inject({ match: ({ method, url }) => (method === 'PUT' && url.pathname.startsWith('/upload') && ++chunks === 2 && (fake.expireAccessTokens(), false)) || false, times: 1, status: 500 });
    const refreshes = fake.tokenRefreshes;
    const b = await run(dir, ['backup']);
    expect(b.code, b.stderr).toBe(0);
    expect(chunks).toBeGreaterThan(2);
    expect(fake.tokenRefreshes).toBe(refreshes + 2); // the first token, then the one after expiry
    expect((await run(dir, ['verify'])).code).toBe(0);
  });

  it('Drive being strict (sessions that expire, 308s that keep less, 201, short pages, ties, lagging search): backups still complete and verify', async () => {
    const dir = freshWorkspace(); // about 0.9 MiB: one chunk, of which Drive keeps part
    expect((await run(dir, ['init'])).code).toBe(0);
    fake.strict = { shortPages: true, partialChunks: true, created201: true, expireSessions: true, timestampTies: true, searchLagMs: 60_000 };
    try {
      for (let i = 0; i < 2; i++) {
        writeFileSync(join(dir, 'chat', 'msgstore.db'), `v${i}`);
        const b = await run(dir, ['backup']);
        expect(b.code, b.stderr).toBe(0);
      }
      expect(JSON.parse((await run(dir, ['list', '--json'])).stdout).map((x: { generation: number }) => x.generation)).toEqual([2]);
      expect((await run(dir, ['verify'])).code).toBe(0);
    } finally {
      fake.strict = { ...LENIENT };
    }
  });

  it('a session that expires after part of the upload was sent: one clear line, nothing listed, the next run completes', async () => {
    const dir = freshWorkspace();
    writeFileSync(join(dir, 'chat', 'video.mp4'), randomBytes(2 << 20));
    expect((await run(dir, ['init'])).code).toBe(0);
    let chunks = 0;
    fake.inject({ match: ({ method, url }) => (method === 'PUT' && url.pathname.startsWith('/upload') && ++chunks === 2 && (fake.expireAllSessions(), false)) || false, times: 1, status: 500 });
    const b = await run(dir, ['backup']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/^error: backup of chats to drive failed: drive:\S+ Faults \d+: Google Drive ended the upload session of coffer\/chats\/\S+ \(expired, 404\) after part of it was sent; the next run uploads it again$/m);
    expect(JSON.parse((await run(dir, ['list', '--json'])).stdout)).toEqual([]);
    expect((await run(dir, ['backup'])).code).toBe(0);
    expect(JSON.parse((await run(dir, ['list', '--json'])).stdout)).toHaveLength(1);
  });

  it('connections reset in the middle of chunks: each resumes from what Drive kept, and the backup completes', async () => {
    const proxy = new FaultProxy(root);
    const proxied = await proxy.listen();
    // Upload sessions point at the proxy too: the fake names its own root in their URLs.
    fake.root = proxied;
    let resets = 0;
    proxy.rule = ({ method, url }) => (method === 'PUT' && url.pathname.startsWith('/upload') && resets++ < 5 ? { resetAfterBytes: 300 * 1024 } : 'pass');
    try {
      const dir = workspace({ destinations: [driveDestination(`Coffer Faults ${++folderNo}`).replace(`apiRoot: "${root}"`, `apiRoot: "${proxied}"`)] });
      withCredentials(dir);
      writeFileSync(join(dir, 'chat', 'video.mp4'), randomBytes(2 << 20));
      expect((await run(dir, ['init'])).code).toBe(0);
      const b = await run(dir, ['backup']);
      expect(b.code, b.stderr).toBe(0);
      expect(resets).toBeGreaterThan(5);
      expect(b.stderr).toMatch(/retrying put part \d of \S+ in \d+\.\d s \(ECONNRESET\)/);
      expect((await run(dir, ['verify'])).code).toBe(0);
    } finally {
      fake.root = root;
      await proxy.close();
    }
  });

  it('a stalled response times out and is retried', async () => {
    const dir = freshWorkspace();
    expect((await run(dir, ['init'])).code).toBe(0);
    fake.inject({ match: ({ method, url }) => method === 'PUT' && url.pathname.startsWith('/upload'), times: 1, status: 503, stallMs: 20_000 });
    fake.inject({ match: ({ method, url }) => method === 'GET' && url.pathname === '/drive/v3/files', times: 1, status: 503, stallMs: 20_000 });
    const started = Date.now();
    const b = await run(dir, ['backup'], { COFFER_STORAGE_TIMEOUT_MS: '1000' });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/retrying put part 1 of \S+ in \d+\.\d s \(timeout\)/);
    expect(b.stderr).toMatch(/retrying list of \S+ in \d+\.\d s \(timeout\)/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('credentials that expire between two runs of the daemon: /healthz says so, with Google\'s reason', async () => {
    const port = await freePort();
    const dir = workspace({ destinations: [driveDestination(`Coffer Faults ${++folderNo}`)], extra: `daemon: { listen: "127.0.0.1:${port}" }\nschedule: { every: "1h" }` });
    withCredentials(dir);
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const daemonRun = async () => {
      const daemon = cofferAsync(['daemon', '--config', 'coffer.yaml'], { cwd: dir, env });
      const exited = new Promise<number | null>((r) => daemon.on('exit', r));
      try {
        return await until('the first run to end', async () => {
          const r = await fetch(`http://127.0.0.1:${port}/healthz`);
          const body = (await r.json()) as { lastRunEndedAt: string | null };
          return body.lastRunEndedAt ? { status: r.status, body } : undefined;
        });
      } finally {
        daemon.kill('SIGTERM');
        expect(await exited).toBe(0);
      }
    };
    expect((await daemonRun()).status).toBe(200);
    fake.revoke();
    try {
      const second = await daemonRun();
      expect(second.status).toBe(503);
      expect(second.body).toMatchObject({ problems: [{ destination: 'drive', reason: expect.stringMatching(/Google refused the credentials \(revoked or expired\): run `coffer auth drive` again .*\(invalid_grant/) }] });
      expect(JSON.stringify(second.body)).not.toContain(FAKE_DRIVE_CREDENTIALS.client_secret);
    } finally {
      (fake as unknown as { refreshTokens: Set<string> }).refreshTokens.add(FAKE_DRIVE_CREDENTIALS.refresh_token);
    }
  });
});
