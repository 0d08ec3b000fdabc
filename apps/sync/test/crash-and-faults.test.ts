import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { coffer, listJson, snapshot, workspace, expectedTree } from './helpers.js';
import { killCampaign } from './kill-campaign.js';

describe('crash safety: kill -9 at random moments', () => {
  it('always leaves at least one complete, restorable backup and never a listed partial one (24 trials)', async () => {
    const dir = workspace();
    for (let i = 0; i < 6; i++) writeFileSync(join(dir, 'chat', `video-${i}.mp4`), randomBytes(4 << 20));
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const killedMidway = await killCampaign(dir, 24, (trial) => writeFileSync(join(dir, 'chat', 'msgstore.db'), `trial ${trial}`));
    expect(killedMidway).toBeGreaterThanOrEqual(12);
    // After all that, a normal run succeeds (the stale lock is taken over), cleans up, and restores.
    const final = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(final.code, final.stderr).toBe(0);
    expect(listJson(dir)).toHaveLength(1);
    expect(readdirSync(join(dir, 'backups', '.coffer-incomplete'))).toEqual([]);
    expect(coffer(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir }).code).toBe(0);
    expect(snapshot(join(dir, 'out'))).toEqual(expectedTree(dir));
  }, 300_000);
});

describe('disk full on a local destination', () => {
  const mounts: string[] = [];
  afterAll(() => {
    for (const m of mounts) execFileSync('umount', [m]);
  });

  it('fails with a clear error, keeps the previous backup, and leaves no partial file', () => {
    const dir = workspace();
    const backups = join(dir, 'backups');
    mkdirSync(backups);
    // A real full disk: a 2 MiB tmpfs (CI runs as root; a failed mount fails this test, never skips it).
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', backups]);
    mounts.push(backups);
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const [first] = listJson(dir);
    writeFileSync(join(dir, 'chat', 'big.bin'), randomBytes(3 << 20));
    const full = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(full.code, full.stderr).toBe(1);
    expect(full.stderr).toMatch(/backup of chats to disk failed: .*the disk is full/);
    expect(full.stderr).not.toMatch(/retry/); // permanent: not retried
    expect(listJson(dir).map((b) => b.id)).toEqual([first!.id]);
    expect(readdirSync(join(backups, '.coffer-incomplete'))).toEqual([]);
    expect(coffer(['verify', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});
