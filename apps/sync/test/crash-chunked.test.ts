// kill -9 at random moments of chunked backups (SPEC §13): chunk uploads, the reference list, the
// manifest, rotation and collection. After every kill, every listed backup verifies in full.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coffer, expectedTree, listJson, snapshot, workspace } from './helpers.js';
import { killCampaign } from './kill-campaign.js';

describe('crash safety of chunked backups', () => {
  it('kill -9 anywhere, collection included, never loses a listed backup (30 trials)', async () => {
    const dir = workspace({
      destinations: ['  - { name: disk, type: local, path: ./backups, format: chunked, chunker: { minKiB: 32, avgKiB: 128, maxKiB: 512 } }'],
      retention: 'retention: { keepLast: 1 }',
    });
    for (let i = 0; i < 4; i++) writeFileSync(join(dir, 'chat', `video-${i}.mp4`), randomBytes(1 << 20));
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    // Each trial replaces a video, so every run uploads chunks and collects the old ones.
    const killedMidway = await killCampaign(dir, 30, (trial) => writeFileSync(join(dir, 'chat', `video-${trial % 4}.mp4`), randomBytes(1 << 20)), 1.2);
    expect(killedMidway).toBeGreaterThanOrEqual(15);
    // A run that completes collects what the killed ones left: only the retained backups' chunks stay.
    const final = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(final.code, final.stderr).toBe(0);
    expect(listJson(dir)).toHaveLength(1);
    const folder = join(dir, 'backups', 'coffer', readdirSync(join(dir, 'backups', 'coffer'))[0]!);
    const lists = readdirSync(join(folder, 'backups')).filter((f) => f.endsWith('.refs'));
    expect(lists).toHaveLength(1);
    const needed = new Set<string>();
    for (const list of lists) {
      for (const line of readFileSync(join(folder, 'backups', list), 'utf8').split('\n')) if (line.startsWith('chunk ')) needed.add(`${line.slice(6)}.age`);
    }
    expect(readdirSync(join(folder, 'chunks')).sort()).toEqual([...needed].sort());
    expect(coffer(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir }).code).toBe(0);
    expect(snapshot(join(dir, 'out'))).toEqual(expectedTree(dir));
  }, 400_000);
});
