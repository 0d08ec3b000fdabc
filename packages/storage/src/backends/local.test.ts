import { mkdir, mkdtemp, readdir, rm, symlink, truncate, utimes, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { batchIoAddon } from '@coffer/batch-io';
import { LocalBackend, LOCAL_TEMP_DIR } from '../index.js';
import { chunks, runStorageConformance } from '../testing/index.js';
import { tempName } from './temp-name.js';

const roots: string[] = [];
const newRoot = async () => {
  const root = await mkdtemp(join(tmpdir(), 'coffer-local-'));
  roots.push(root);
  return root;
};
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

it('writes through the batched writer (the suite requires it: run pnpm build)', () => {
  expect(batchIoAddon).not.toBeNull();
});

// Both ways of writing: each chunk and its CRC-32 in one thread-pool job (the addon), and through
// the file handle with the CRC-32 on this thread where the addon is not built.
for (const [name, batchIo] of [
  ['local', batchIoAddon],
  ['local, without the batched writer', null],
] as const) {
  runStorageConformance(name, {
    create: async () => new LocalBackend({ root: join(await newRoot(), 'store'), batchIo }),
    boundedMemory: true,
    truncate: async (backend, key, bytes) => truncate(join(backend.name.slice('local:'.length), key), bytes),
  });
}

describe('local backend specifics', () => {
  it('never lets a key escape the root through a symlink', async () => {
    const root = await newRoot();
    const outside = await newRoot();
    await symlink(outside, join(root, 'link'));
    const b = new LocalBackend({ root });
    await expect(b.put('link/evil', chunks(Buffer.from('x')))).rejects.toMatchObject({ code: 'INVALID_KEY' });
    expect(await readdir(outside)).toEqual([]);
  });

  it('leaves no partial file at the destination and cleans up interrupted uploads', async () => {
    const root = await newRoot();
    const b = new LocalBackend({ root });
    await mkdir(join(root, LOCAL_TEMP_DIR), { recursive: true });
    await writeFile(join(root, LOCAL_TEMP_DIR, 'crashed.part'), 'half');
    const listed: string[] = [];
    for await (const info of b.list('')) listed.push(info.key);
    expect(listed).toEqual([]);
    // A name of unknown origin is removed once old enough.
    expect(await b.cleanupIncomplete()).toBe(0);
    expect(await b.cleanupIncomplete(0)).toBe(1);
    await expect(b.put(`${LOCAL_TEMP_DIR}/x`, chunks(Buffer.from('x')))).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });

  it('reports permission denied as a permanent error with a clear message', async () => {
    const root = await newRoot();
    await chmod(root, 0o555);
    // Root ignores file modes, so as root the attempt runs in a child process as `nobody`.
    const script = `import('${new URL('../../dist/index.js', import.meta.url).href}').then(async ({ LocalBackend }) => {
      const err = await new LocalBackend({ root: ${JSON.stringify(root)} }).put('x', (async function* () { yield Buffer.from('x'); })()).catch((e) => e);
      console.log(JSON.stringify({ code: err.code, isRetryable: err.isRetryable, message: err.message }));
    })`;
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { ...asNobody, cwd: '/' }).toString();
    expect(JSON.parse(out)).toEqual({ code: 'PERMISSION_DENIED', isRetryable: false, message: expect.stringContaining('permission denied') });
  });
});

describe('local errors that retrying cannot fix', () => {
  it('disk full and permission errors are permanent: mapped so the retry layer never repeats them', async () => {
    const { fsError } = await import('./local.js');
    const { RetryingBackend } = await import('../index.js');
    const cases = [
      ['ENOSPC', 'QUOTA_EXCEEDED', 'the disk is full'],
      ['EDQUOT', 'QUOTA_EXCEEDED', 'the disk quota is exceeded'],
      ['EACCES', 'PERMISSION_DENIED', 'permission denied'],
      ['EPERM', 'PERMISSION_DENIED', 'operation not permitted'],
      ['EROFS', 'PERMISSION_DENIED', 'the filesystem is read-only'],
    ] as const;
    for (const [errno, code, words] of cases) {
      const mapped = fsError(Object.assign(new Error(errno), { code: errno }), 'local:/x', 'k');
      expect(mapped).toMatchObject({ code, isRetryable: false, providerCode: errno, message: `local:/x: ${words} (k)` });
      let calls = 0;
      const failing = new LocalBackend({ root: '/nonexistent-coffer-root' });
      failing.stat = async () => {
        calls += 1;
        throw mapped;
      };
      await expect(new RetryingBackend(failing, { sleep: async () => {} }).stat('k')).rejects.toBe(mapped);
      expect(calls, errno).toBe(1);
    }
  });

  it('clean-up removes only what dead writers left: an upload in progress by another process stays', async () => {
    const root = await newRoot();
    const b = new LocalBackend({ root });
    const dir = join(root, LOCAL_TEMP_DIR);
    await mkdir(dir, { recursive: true });
    const live = spawn('sleep', ['30']);
    const dead = spawn('true');
    await new Promise((r) => dead.on('exit', r));
    const mine = tempName(); // this host's hash, this process's pid
    const as = (pid: number) => mine.replace(/^\d+-/, `${pid}-`);
    await writeFile(join(dir, as(live.pid!)), 'uploading');
    await writeFile(join(dir, as(dead.pid!)), 'crashed');
    const otherHost = `${live.pid}-00000000-${'a'.repeat(24)}.part`;
    await writeFile(join(dir, otherHost), 'another machine');
    try {
      expect(await b.cleanupIncomplete()).toBe(1);
      expect((await readdir(dir)).sort()).toEqual([as(live.pid!), otherHost].sort());
      // Another machine's upload goes only once it is a day old.
      await utimes(join(dir, otherHost), new Date(Date.now() - 2 * 86_400_000), new Date(Date.now() - 2 * 86_400_000));
      expect(await b.cleanupIncomplete()).toBe(1);
      expect(await readdir(dir)).toEqual([as(live.pid!)]);
    } finally {
      live.kill();
    }
  });
});
