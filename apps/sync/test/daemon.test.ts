import { appendFileSync, existsSync, mkdirSync, readdirSync, watch, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coffer, cofferAsync, listJson, workspace } from './helpers.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('coffer daemon', () => {
  it('backs up on schedule, serves /healthz and /metrics, refuses a second instance, stops on SIGTERM', async () => {
    const port = await freePort();
    const dir = workspace({ extra: `daemon: { listen: "127.0.0.1:${port}" }\nschedule: { every: "1h" }` });
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const daemon = cofferAsync(['daemon', '--config', 'coffer.yaml'], { cwd: dir });
    let stderr = '';
    daemon.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => daemon.on('exit', r));

    // /healthz changes only when the whole run has ended; the metrics are recorded a moment before.
    const health = await until('the first run to end in /healthz', async () => {
      const body = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { lastRunEndedAt: string | null; nextRunAt: string };
      return body.lastRunEndedAt ? body : undefined;
    });
    expect(health).toMatchObject({ status: 'ok', lastRunOk: true });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/coffer_last_success_timestamp_seconds\{source="chats",destination="disk"\} \d/);
    expect(metrics).toMatch(/coffer_backup_bytes_total\{source="chats",destination="disk"\} [1-9]\d*/);
    expect(metrics).toMatch(/coffer_backup_duration_seconds_count\{source="chats"\} 1/);
    expect(Date.parse(health.nextRunAt) - Date.now()).toBeGreaterThan(50 * 60_000);

    const second = coffer(['daemon', '--config', 'coffer.yaml'], { cwd: dir });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another coffer process \(pid \d+\) is already running for this config/);

    daemon.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('daemon: stopped');
    expect(existsSync(join(dir, '.coffer-state', 'lock'))).toBe(false);
    expect(listJson(dir)).toHaveLength(1);
  });

  it('SIGTERM during an upload aborts it cleanly: nothing that looks like a backup is left', async () => {
    const port = await freePort();
    const dir = workspace({ extra: `daemon: { listen: "127.0.0.1:${port}" }` });
    for (let i = 0; i < 8; i++) writeFileSync(join(dir, 'chat', `video-${i}.mp4`), randomBytes(8 << 20));
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    // Freeze the daemon the instant its upload creates the temporary object, then send SIGTERM:
    // polling for the file let a fast machine finish the whole upload before the signal arrived.
    const temp = join(dir, 'backups', '.coffer-incomplete');
    mkdirSync(temp, { recursive: true });
    const daemon = cofferAsync(['daemon', '--config', 'coffer.yaml'], { cwd: dir });
    const exited = new Promise<number | null>((r) => daemon.on('exit', r));
    const started = new Promise<string>((resolve) => {
      const watcher = watch(temp, (_event, name) => {
        if (!name?.endsWith('.part')) return;
        daemon.kill('SIGSTOP');
        watcher.close();
        resolve(name);
      });
    });
    expect(await started).toMatch(/\.part$/);
    expect(readdirSync(temp)).toHaveLength(1); // frozen mid-upload: the object is still being written
    daemon.kill('SIGTERM');
    daemon.kill('SIGCONT');
    expect(await exited).toBe(0);
    expect(listJson(dir)).toEqual([]);
    expect(readdirSync(join(dir, 'backups', '.coffer-incomplete'))).toEqual([]);
    // The next run works normally.
    appendFileSync(join(dir, 'chat', 'msgstore.db'), 'x');
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(listJson(dir)).toHaveLength(1);
  });
});
