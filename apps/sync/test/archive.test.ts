import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coffer, listJson, snapshot, workspace, expectedTree } from './helpers.js';

describe('Padmé padding', () => {
  it('hides small size differences between backups', () => {
    const dir = workspace();
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const first = listJson(dir)[0]!.size;
    appendFileSync(join(dir, 'chat', 'msgstore.db'), 'a short new message');
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(listJson(dir)[0]!.size).toBe(first);
  });
});

describe('archive fidelity', () => {
  it('keeps long and deep paths (pax), modes, empty folders and symlinks', () => {
    const dir = workspace();
    const deep = join(dir, 'chat', 'a'.repeat(90), 'b'.repeat(90), 'c'.repeat(90));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, `${'long name '.repeat(12)}.txt`), 'deep');
    writeFileSync(join(dir, 'chat', 'script.sh'), '#!/bin/sh\n', { mode: 0o750 });
    execFileSync('ln', ['-s', '../outside/target', join(dir, 'chat', 'dangling-link')]);
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const restore = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir });
    expect(restore.code).toBe(0);
    // A symlink pointing outside comes back as it was: links are made last and never written through.
    expect(snapshot(join(dir, 'out'))).toEqual(expectedTree(dir));
    expect(readlinkSync(join(dir, 'out', 'dangling-link'))).toBe('../outside/target');
    expect(statSync(join(dir, 'out', 'script.sh')).mode & 0o777).toBe(0o750);
  });

  it('restores and verifies a large backup in full (regression: the stream once stalled and exited silently)', () => {
    const dir = workspace();
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, 'chat', `video-${i}.mp4`), randomBytes(16_000_000));
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const backup = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(backup.code).toBe(0);
    // Regression: waiting for 'drain' once left a 'close' listener behind per wait, and Node warned.
    expect(backup.stderr).not.toMatch(/Warning/);
    const verify = coffer(['verify', '--config', 'coffer.yaml'], { cwd: dir });
    expect(verify.stdout).toMatch(/OK, \d+ archive entries, \d+ bytes authenticated/);
    const restore = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir });
    expect(restore.code, restore.stderr).toBe(0);
    expect(snapshot(join(dir, 'out'))).toEqual(expectedTree(dir));
  });

  it('reports a file that changes while it is read, by name', async () => {
    const dir = workspace();
    writeFileSync(join(dir, 'chat', 'growing.log'), Buffer.alloc(40 << 20));
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const { cofferAsync } = await import('./helpers.js');
    const child = cofferAsync(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const done = new Promise((r) => child.on('exit', r));
    // Keep appending while the backup runs.
    const timer = setInterval(() => appendFileSync(join(dir, 'chat', 'growing.log'), 'new line\n'), 5);
    await done;
    clearInterval(timer);
    expect(stderr).toMatch(/growing\.log changed while it was read; its copy in this backup may be inconsistent/);
  });

  it('gzip compression, when chosen, shrinks text and still restores (also with age | gunzip | tar)', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'chat', 'messages.txt'), 'see you tomorrow at the station\n'.repeat(200_000));
    writeFileSync(join(dir, 'coffer.yaml'), readConfig(dir).replace('    exclude: ["**/*.tmp"]', '    exclude: ["**/*.tmp"]\n    compression: gzip'));
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(listJson(dir)[0]!.size).toBeLessThan(2_000_000); // 6.4 MB of text plus ~900 KB random
    expect(coffer(['verify', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir }).code).toBe(0);
    const want = expectedTree(dir);
    expect(snapshot(join(dir, 'out'))).toEqual(want);
    writeFileSync(join(dir, 'id'), coffer(['key', 'export-age', '--key-file', 'coffer.key'], { cwd: dir }).stdout);
    const [object] = readdirSync(join(dir, 'backups', 'coffer', 'chats'));
    mkdirSync(join(dir, 'plain'));
    execFileSync('sh', ['-c', `age -d -i id backups/coffer/chats/${object} | (gunzip 2>/dev/null; true) | tar -C plain -xf -`], { cwd: dir });
    expect(snapshot(join(dir, 'plain'))).toEqual(want);
  });

  it('--json-logs prints structured lines without key material', () => {
    const dir = workspace();
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const r = coffer(['--json-logs', 'backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.some((l) => /uploaded to disk and verified/.test(l.msg))).toBe(true);
    const key = readConfig(dir, 'coffer.key').match(/coffer-backup-key-v1: (.*)/)![1]!;
    expect(r.stderr).not.toContain(key.split(' ')[0]!);
  });
});


function readConfig(dir: string, file = 'coffer.yaml') {
  return readFileSync(join(dir, file), 'utf8');
}
