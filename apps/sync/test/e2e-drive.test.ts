import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FAKE_DRIVE_CREDENTIALS, FakeDrive } from '@coffer/storage-testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cofferAsync, cofferRun, snapshot, workspace, expectedTree } from './helpers.js';

// The fake Drive runs in this process on loopback: the CLI runs asynchronously so it can answer.
const fake = new FakeDrive();
let root: string;
beforeAll(async () => {
  root = await fake.listen();
});
afterAll(() => fake.close());

const driveDestination = (name = 'drive', folder = 'appDataFolder') =>
  `  - { name: ${name}, type: drive, folder: ${folder}, credentialsFile: ./drive-credentials.json, chunkSizeMiB: 1, apiRoot: "${root}", tokenUrl: "${root}/token" }`;
const run = (dir: string, args: string[]) => cofferRun([...args, '--config', 'coffer.yaml'], { cwd: dir });
const withCredentials = (dir: string) => writeFileSync(join(dir, 'drive-credentials.json'), JSON.stringify(FAKE_DRIVE_CREDENTIALS), { mode: 0o600 });

describe('coffer CLI against Google Drive (fake Drive API)', () => {
  it('backs up into the hidden app-data folder, rotates, verifies and restores', async () => {
    const dir = workspace({ destinations: [driveDestination()] });
    withCredentials(dir);
    expect((await run(dir, ['init'])).code).toBe(0);
    for (let i = 0; i < 2; i++) {
      writeFileSync(join(dir, 'chat', 'msgstore.db'), `v${i}`);
      const b = await run(dir, ['backup']);
      expect(b.code, b.stderr).toBe(0);
    }
    const list = JSON.parse((await run(dir, ['list', '--json'])).stdout);
    expect(list.map((b: { generation: number }) => b.generation)).toEqual([2]);
    const stored = [...fake.files.values()].filter((f) => f.name.startsWith('coffer/chats/'));
    expect(stored.every((f) => f.space === 'appDataFolder')).toBe(true);
    expect((await run(dir, ['verify'])).code).toBe(0);
    expect((await run(dir, ['restore', '--to', 'out'])).code).toBe(0);
    expect(snapshot(join(dir, 'out'))).toEqual(expectedTree(dir));
  });

  it('rides out rate limiting and a cut-off chunk during a backup', async () => {
    const dir = workspace({ destinations: [driveDestination('drive', 'Coffer Backups')] });
    withCredentials(dir);
    writeFileSync(join(dir, 'chat', 'video.mp4'), Buffer.alloc(3 << 20, 1));
    expect((await run(dir, ['init'])).code).toBe(0);
    const isChunk = ({ method, url }: { method: string; url: URL }) => method === 'PUT' && url.pathname.startsWith('/upload');
    fake.inject({ match: isChunk, times: 1, status: 403, reason: 'userRateLimitExceeded' });
    fake.inject({ match: isChunk, times: 1, status: 503, reason: 'backendError', keepBytes: 512 * 1024 });
    fake.inject({ match: isChunk, times: 1, status: 429, reason: 'rateLimitExceeded' });
    const b = await run(dir, ['backup']);
    expect(b.code, b.stderr).toBe(0);
    expect(fake.faults.every((f) => f.times === 0)).toBe(true);
    expect((await run(dir, ['verify'])).code).toBe(0);
  });

  it('revoked credentials: a clear error naming the fix, nothing lost', async () => {
    const dir = workspace({ destinations: ['  - { name: disk, type: local, path: ./backups }', driveDestination()] });
    withCredentials(dir);
    expect((await run(dir, ['init'])).code).toBe(0);
    fake.revoke();
    try {
      const b = await run(dir, ['backup']);
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(/Google refused the credentials \(revoked or expired\): run `coffer auth drive` again/);
      expect(b.stderr).not.toContain(FAKE_DRIVE_CREDENTIALS.client_secret);
    } finally {
      (fake as unknown as { refreshTokens: Set<string> }).refreshTokens.add(FAKE_DRIVE_CREDENTIALS.refresh_token);
    }
  });

  it('coffer auth drive runs the OAuth flow (loopback redirect, PKCE, state) and stores a 0600 credentials file', async () => {
    const dir = workspace({ destinations: [driveDestination()] });
    writeFileSync(join(dir, 'client.json'), JSON.stringify({ installed: { client_id: 'fake-client', client_secret: 'fake-secret', auth_uri: `${root}/consent`, token_uri: `${root}/token` } }));
    const child = cofferAsync(['auth', 'drive', '--config', 'coffer.yaml', '--client-file', 'client.json', '--timeout', '30'], { cwd: dir });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    while (!out.includes('Waiting for Google')) await new Promise((r) => setTimeout(r, 50));
    // Play the browser: the consent screen sends the user back with a code and the state.
    const consent = new URL(out.match(/https?:\/\/\S+/)![0]);
    expect(consent.searchParams.get('scope')).toBe('https://www.googleapis.com/auth/drive.appdata');
    expect(consent.searchParams.get('code_challenge_method')).toBe('S256');
    fake.lastCodeChallenge = consent.searchParams.get('code_challenge')!;
    const back = new URL(consent.searchParams.get('redirect_uri')!);
    expect(back.hostname).toBe('127.0.0.1');
    expect((await fetch(`${back}?code=${fake.authorizationCode}&state=wrong`)).status).toBe(400);
    back.search = new URLSearchParams({ code: fake.authorizationCode, state: consent.searchParams.get('state')! }).toString();
    expect((await fetch(back)).status).toBe(200);
    expect(await exited).toBe(0);
    const credentials = JSON.parse(readFileSync(join(dir, 'drive-credentials.json'), 'utf8'));
    expect(credentials).toMatchObject({ type: 'authorized_user', refresh_token: 'fake-refresh-token' });
    expect(statSync(join(dir, 'drive-credentials.json')).mode & 0o777).toBe(0o600);
    expect((await run(dir, ['init'])).code).toBe(0);
    expect((await run(dir, ['backup'])).code).toBe(0);
  });
});
