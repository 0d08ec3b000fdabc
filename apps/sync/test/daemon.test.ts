import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePort, TEST_CREDENTIALS } from '@coffer/storage-testkit';
import { describe, expect, it } from 'vitest';
import { coffer, cofferAsync, listJson, until, workspace } from './helpers.js';

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

  it('every metric series exists from start-up, before any run', async () => {
    const port = await freePort();
    // A schedule whose first run is months away: what a scraper sees right after start-up.
    const dir = workspace({ extra: `daemon: { listen: "127.0.0.1:${port}" }\nschedule: { cron: "0 0 1 1 *" }` });
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const daemon = cofferAsync(['daemon', '--config', 'coffer.yaml'], { cwd: dir });
    const exited = new Promise<number | null>((r) => daemon.on('exit', r));
    try {
      const metrics = await until('/metrics', async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
      const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
      for (const line of [
        `coffer_build_info{version="${version}"} 1`,
        'coffer_last_success_timestamp_seconds{source="chats",destination="disk"} 0',
        'coffer_last_run_success{source="chats",destination="disk"} NaN',
        'coffer_backup_bytes_total{source="chats",destination="disk"} 0',
        'coffer_backup_failures_total{source="chats",destination="disk"} 0',
        'coffer_backup_duration_seconds_count{source="chats"} 0',
        'coffer_runs_total 0',
        'coffer_run_failures_total 0',
      ]) {
        expect(metrics).toContain(line);
      }
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', problems: [], destinations: [{ source: 'chats', destination: 'disk', lastRunOk: null }] });
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('/healthz answers 503 naming the destination whose last run failed, and why; the metrics agree', async () => {
    const port = await freePort();
    const s3 = '  - { name: s3, type: s3, bucket: coffer-none, endpoint: "http://127.0.0.1:9", forcePathStyle: true, accessKeyIdEnv: COFFER_TEST_KEY_ID, secretAccessKeyEnv: COFFER_TEST_SECRET }';
    const dir = workspace({ destinations: ['  - { name: disk, type: local, path: ./backups }', s3], extra: `daemon: { listen: "127.0.0.1:${port}" }\nschedule: { every: "1h" }` });
    const env = { COFFER_TEST_KEY_ID: TEST_CREDENTIALS.accessKeyId, COFFER_TEST_SECRET: TEST_CREDENTIALS.secretAccessKey, COFFER_RETRY_ATTEMPTS: '2', COFFER_RETRY_BASE_MS: '5' };
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir, env }).code).toBe(0);
    const daemon = cofferAsync(['daemon', '--config', 'coffer.yaml'], { cwd: dir, env });
    const exited = new Promise<number | null>((r) => daemon.on('exit', r));
    try {
      const health = await until('the first run to end', async () => {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`);
        const body = (await r.json()) as { lastRunEndedAt: string | null };
        return body.lastRunEndedAt ? { status: r.status, body } : undefined;
      });
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({
        status: 'failing',
        lastRunOk: false,
        problems: [{ source: 'chats', destination: 's3', reason: expect.stringMatching(/^the last backup failed: .*cannot reach s3 \(connection refused to 127\.0\.0\.1:9\)$/) }],
      });
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('coffer_last_run_success{source="chats",destination="disk"} 1');
      expect(metrics).toContain('coffer_last_run_success{source="chats",destination="s3"} 0');
      expect(metrics).toContain('coffer_backup_failures_total{source="chats",destination="s3"} 1');
      expect(metrics).toContain('coffer_last_success_timestamp_seconds{source="chats",destination="s3"} 0');
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
