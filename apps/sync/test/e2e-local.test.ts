import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, coffer, listJson, snapshot, workspace, expectedTree } from './helpers.js';

function addVideos(dir: string): void {
  mkdirSync(join(dir, 'chat', 'Media', 'Video'));
  writeFileSync(join(dir, 'chat', 'Media', 'Video', 'VID-0.mp4'), randomBytes((9 << 20) + 3));
  writeFileSync(join(dir, 'chat', 'Media', 'Video', 'VID-1.mp4'), randomBytes(2 << 20));
}

describe('coffer CLI end to end on a local destination', () => {
  it('init, backup, list, verify, restore round-trip a folder exactly, large files included', () => {
    const dir = workspace();
    // Large files are read in pooled 1 MiB pieces that are reused once sealed: any piece reused
    // too early would show here as a restored file that differs.
    addVideos(dir);
    const init = coffer(['init', '--config', 'coffer.yaml'], { cwd: dir });
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/(\s+[0-9a-f]{4}){16}/);
    expect(init.stdout).toMatch(/WARNING: .*Without it nobody/s);
    expect(statSync(join(dir, 'coffer.key')).mode & 0o777).toBe(0o600);

    const backup = coffer(['backup', '--config', 'coffer.yaml', '--debug'], { cwd: dir });
    expect(backup.stderr).toContain('uploaded to disk and verified');
    expect(backup.code).toBe(0);
    // The shipped (bundled) CLI must find both addons, not quietly fall back.
    expect(backup.stderr).toContain('sealing with the native batcher, CRC-32 by libdeflate; small files read in batches');

    const listed = listJson(dir);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ source: 'chats', destination: 'disk', generation: 1 });
    expect(Object.keys(listed[0]!)).toEqual(expect.arrayContaining(['id', 'source', 'destination', 'createdAt', 'generation', 'size']));

    const verify = coffer(['verify', '--config', 'coffer.yaml'], { cwd: dir });
    expect(verify.stdout).toContain('OK');
    expect(verify.code).toBe(0);

    const restore = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir });
    expect(restore.code).toBe(0);
    expect(snapshot(join(dir, 'out'))).toEqual(expectedTree(dir));
    expect(existsSync(join(dir, 'out', 'draft.tmp'))).toBe(false);
  });

  it('shows a progress bar with bytes, total, rate and ETA on a terminal, and nothing of it otherwise', () => {
    const dir = workspace();
    addVideos(dir);
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    // script(1) runs the CLI on a pseudo-terminal; its output is what the terminal received.
    const onTerminal = execFileSync('script', ['-qefc', `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} backup --config coffer.yaml`, '/dev/null'], { cwd: dir, encoding: 'utf8' });
    const frames = onTerminal.split(/\x1b\[1G/).filter((f) => f.startsWith('backup chats ['));
    expect(frames.length).toBeGreaterThan(0);
    for (const frame of frames) expect(frame).toMatch(/\] \d+% \| \d+\.\d MiB of (counting|\d+\.\d MiB) \| \d+\.\d MiB\/s \| ETA (…|\d+s)/);
    expect(onTerminal).toContain('uploaded to disk and verified');
    const plain = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toContain('MiB/s');
  });

  it('init refuses to overwrite an existing key', () => {
    const dir = workspace();
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const before = readFileSync(join(dir, 'coffer.key'), 'utf8');
    const again = coffer(['init', '--config', 'coffer.yaml'], { cwd: dir });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already exists; refusing to overwrite a key');
    expect(readFileSync(join(dir, 'coffer.key'), 'utf8')).toBe(before);
  });

  it('rotates: after three backups with keepLast 1 one remains, the newest, and generations increase', () => {
    const dir = workspace();
    coffer(['init', '--config', 'coffer.yaml'], { cwd: dir });
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(dir, 'chat', 'msgstore.db'), `version ${i}`);
      expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    }
    const listed = listJson(dir);
    expect(listed.map((b) => b.generation)).toEqual([3]);
    expect(coffer(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir }).code).toBe(0);
    expect(readFileSync(join(dir, 'out', 'msgstore.db'), 'utf8')).toBe('version 2');
  });

  it('restores to a non-empty folder only with --force', () => {
    const dir = workspace();
    coffer(['init', '--config', 'coffer.yaml'], { cwd: dir });
    coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'out', 'keep-me'), 'x');
    const refused = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('out is not empty; choose an empty folder or pass --force');
    expect(readdirSync(join(dir, 'out'))).toEqual(['keep-me']);
    expect(coffer(['restore', '--config', 'coffer.yaml', '--to', 'out', '--force'], { cwd: dir }).code).toBe(0);
    expect(snapshot(join(dir, 'out'))).toEqual(expectedTree(dir));
    expect(readdirSync(dir).filter((n) => n.includes('coffer-restore'))).toEqual([]);
  });

  it('backs up to two destinations from one read; one failing does not stop the other', () => {
    const dir = workspace({ destinations: ['  - { name: a, type: local, path: ./backups-a }', '  - { name: b, type: local, path: ./backups-b }'] });
    coffer(['init', '--config', 'coffer.yaml'], { cwd: dir });
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const both = listJson(dir);
    expect(both.map((b) => b.destination).sort()).toEqual(['a', 'b']);
    expect(both[0]!.id).toBe(both[1]!.id); // the same backup, uploaded twice

    writeFileSync(join(dir, 'backups-b-blocker'), '');
    execFileSync('rm', ['-rf', join(dir, 'backups-b')]);
    writeFileSync(join(dir, 'backups-b'), 'a file where a folder should be');
    const partial = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(partial.code).toBe(1);
    expect(partial.stderr).toMatch(/backup of chats to b failed/);
    expect(partial.stderr).toContain('uploaded to a and verified');
    expect(listJson(dir, ['--destination', 'a']).map((b) => b.generation)).toEqual([2]);
  });

  it('restores with standard tools only: key export-age, then age -d | tar -x', () => {
    const dir = workspace();
    addVideos(dir);
    coffer(['init', '--config', 'coffer.yaml'], { cwd: dir });
    coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    // As the README's emergency restore has it: the identity goes to a new file with mode 0600.
    const identity = coffer(['key', 'export-age', '--key-file', 'coffer.key', '--out', 'identity.txt'], { cwd: dir });
    expect([identity.code, identity.stdout]).toEqual([0, '']);
    expect(statSync(join(dir, 'identity.txt')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'identity.txt'), 'utf8')).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]+$/m);
    const [object] = readdirSync(join(dir, 'backups', 'coffer', 'chats'));
    mkdirSync(join(dir, 'plain'));
    execFileSync('sh', ['-c', `age -d -i identity.txt "backups/coffer/chats/${object}" | tar -C plain -xf -`], { cwd: dir });
    expect(snapshot(join(dir, 'plain'))).toEqual(expectedTree(dir));
  });

  it('a write-only key makes backups but cannot read them', () => {
    const dir = workspace();
    coffer(['init', '--config', 'coffer.yaml'], { cwd: dir });
    const wo = coffer(['key', 'write-only', '--key-file', 'coffer.key', '--out', 'write-only.key'], { cwd: dir });
    expect(wo.code).toBe(0);
    expect(statSync(join(dir, 'write-only.key')).mode & 0o777).toBe(0o600);
    execFileSync('mv', ['coffer.key', 'full.key'], { cwd: dir });
    execFileSync('mv', ['write-only.key', 'coffer.key'], { cwd: dir });
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(listJson(dir)).toHaveLength(1);
    const denied = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('is write-only: it can make backups but cannot read them');
    expect(coffer(['key', 'export-age', '--key-file', 'coffer.key'], { cwd: dir }).code).toBe(1);
    expect(coffer(['restore', '--config', 'coffer.yaml', '--to', 'out', '--key-file', 'full.key'], { cwd: dir }).code).toBe(0);
    expect(snapshot(join(dir, 'out'))).toEqual(expectedTree(dir));
  });
});
