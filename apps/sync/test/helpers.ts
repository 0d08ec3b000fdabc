import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
import { tmpdir } from 'node:os';
import { afterAll } from 'vitest';
import { join } from 'node:path';

export const CLI = new URL('../dist/coffer.cjs', import.meta.url).pathname;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function coffer(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like `coffer`, without blocking this process: needed when a test server runs in this process. */
export function cofferRun(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  const child = cofferAsync(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

export function cofferAsync(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

const workspaces: string[] = [];
// Workspaces hold backups and restores (some near 1 GiB): they go once the test file is done.
afterAll(() => {
  for (const dir of workspaces.splice(0)) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // a test left something it cannot remove (a read-only folder as a non-root user): leave it
    }
  }
});

/** A fresh folder with a sample chat archive and a config; removed after the test file. */
export function workspace(options: { destinations?: string[]; retention?: string; extra?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-e2e-'));
  workspaces.push(dir);
  const chat = join(dir, 'chat');
  mkdirSync(join(chat, 'Media', 'Images'), { recursive: true });
  mkdirSync(join(chat, 'empty folder'), { recursive: true });
  writeFileSync(join(chat, 'msgstore.db'), randomBytes(300_000));
  for (let i = 0; i < 3; i++) writeFileSync(join(chat, 'Media', 'Images', `IMG-${i}.jpg`), randomBytes(200_000 + i));
  writeFileSync(join(chat, 'draft.tmp'), 'excluded');
  writeFileSync(join(chat, 'notes ünïcødé.txt'), 'hello');
  spawnSync('ln', ['-s', 'msgstore.db', join(chat, 'latest-db')]);
  const destinations = options.destinations ?? ['  - { name: disk, type: local, path: ./backups }'];
  writeFileSync(
    join(dir, 'coffer.yaml'),
    [
      'key:',
      '  file: ./coffer.key',
      'sources:',
      '  - name: chats',
      '    path: ./chat',
      '    exclude: ["**/*.tmp"]',
      'destinations:',
      ...destinations,
      options.retention ?? 'retention: { keepLast: 1 }',
      options.extra ?? '',
      '',
    ].join('\n'),
  );
  return dir;
}

/** Every path with its type, mode, content hash or link target: for comparing trees. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const key = rel ? `${rel}/${name}` : name;
      const s = lstatSync(path);
      if (s.isDirectory()) {
        out[key] = `dir ${(s.mode & 0o777).toString(8)}`;
        walk(path, key);
      } else if (s.isSymbolicLink()) out[key] = `link ${readlinkSync(path)}`;
      else out[key] = `file ${(s.mode & 0o777).toString(8)} ${Math.floor(s.mtimeMs / 1000)} ${sha256(readFileSync(path))}`;
    }
  };
  walk(root, '');
  return out;
}


export function listJson(dir: string, extra: string[] = []): { id: string; generation: number; destination: string; size: number; source: string; createdAt: string }[] {
  const r = coffer(['list', '--config', 'coffer.yaml', '--json', ...extra], { cwd: dir });
  if (r.code !== 0) throw new Error(`list failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The workspace's source tree as a restore should reproduce it (the config excludes *.tmp). */
export function expectedTree(dir: string): Record<string, string> {
  const tree = snapshot(join(dir, 'chat'));
  delete tree['draft.tmp'];
  return tree;
}

/** Polls `fn` until it returns a value (errors count as "not yet"). */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
