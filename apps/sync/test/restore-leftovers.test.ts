import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { coffer, cofferAsync, expectedTree, snapshot, workspace } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pid no process has: one that just exited. */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

describe('a restore killed with kill -9 leaves a temporary folder; the next restore into DIR removes it, and nothing else', () => {
  it('cleans up after a real kill mid-restore, and leaves look-alikes alone', async () => {
    const dir = workspace();
    // Enough to take a while to restore: many small files (written in batches) and large ones.
    mkdirSync(join(dir, 'chat', 'many'));
    for (let i = 0; i < 3000; i++) writeFileSync(join(dir, 'chat', 'many', `m-${i}.txt`), randomBytes(2000));
    for (let i = 0; i < 12; i++) writeFileSync(join(dir, 'chat', `video-${i}.mp4`), randomBytes(4 << 20));
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);

    const child = cofferAsync(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const prefix = `.out.coffer-restore-${child.pid}-`;
    // Kill once the restore has written part of the backup into its temporary folder.
    let temp: string | undefined;
    for (let waited = 0; waited < 60_000 && child.exitCode === null; waited += 2) {
      temp = readdirSync(dir).find((n) => n.startsWith(prefix));
      if (temp && existsSync(join(dir, temp, 'many')) && readdirSync(join(dir, temp, 'many')).length > 100) break;
      await sleep(2);
    }
    expect(child.exitCode, 'the restore ended before it could be killed').toBeNull();
    child.kill('SIGKILL');
    await exited;
    expect(temp).toMatch(/^\.out\.coffer-restore-\d+-[A-Za-z0-9]{6}$/);
    expect(readdirSync(join(dir, temp!, 'many')).length).toBeGreaterThan(100);
    expect(existsSync(join(dir, 'out'))).toBe(false);

    // Look-alikes that are not a dead restore's into out: each must survive.
    const dead = deadPid();
    const keep = [
      `.out.coffer-restore-keep`, // not the pattern
      `.other.coffer-restore-${dead}-abcdef`, // another folder's
      `.out.coffer-restore-${process.pid}-abcdef`, // a restore still running (this process)
      `.out.coffer-restore-${dead}-abcdefg`, // not mkdtemp's six characters
      `out.coffer-restore-${dead}-abcdef`, // no leading dot
    ];
    for (const name of keep) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'precious'), name);
    }
    writeFileSync(join(dir, `.out.coffer-restore-${dead}-afile0`), 'a file, not a folder');
    mkdirSync(join(dir, 'elsewhere'));
    writeFileSync(join(dir, 'elsewhere', 'precious'), 'x');
    symlinkSync(join(dir, 'elsewhere'), join(dir, `.out.coffer-restore-${dead}-alink0`));
    // A second leftover of a dead restore (as from an older kill): removed too.
    mkdirSync(join(dir, `.out.coffer-restore-${dead}-Plant1`));

    const again = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`restore: removed ${temp}, left by an interrupted restore (pid ${child.pid})\n`);
    expect(again.stderr).toContain(`restore: removed .out.coffer-restore-${dead}-Plant1, left by an interrupted restore (pid ${dead})\n`);
    expect(snapshot(join(dir, 'out'))).toEqual(expectedTree(dir));
    expect(readdirSync(dir).filter((n) => n.includes('coffer-restore')).sort()).toEqual(
      [...keep.filter((n) => n.includes('coffer-restore')), `.out.coffer-restore-${dead}-afile0`, `.out.coffer-restore-${dead}-alink0`].sort(),
    );
    for (const name of keep) expect(readFileSync(join(dir, name, 'precious'), 'utf8')).toBe(name);
    expect(lstatSync(join(dir, `.out.coffer-restore-${dead}-alink0`)).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'elsewhere', 'precious'), 'utf8')).toBe('x');
  }, 180_000);

  it('a --force restore killed between its two renames: the old content goes back in place, never deleted', () => {
    const dir = workspace();
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    // The state that kill leaves: DIR moved aside, the complete new tree beside it, DIR missing.
    const dead = deadPid();
    const temp = `.out.coffer-restore-${dead}-Abc123`;
    mkdirSync(join(dir, temp));
    writeFileSync(join(dir, temp, 'new'), 'the restored tree');
    mkdirSync(join(dir, `${temp}.old`));
    writeFileSync(join(dir, `${temp}.old`, 'mine'), 'what out held');

    const r = coffer(['restore', '--config', 'coffer.yaml', '--to', 'out'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `warning: restore: put back the content of ${join(dir, 'out')} that an interrupted restore (pid ${dead}) had moved aside to ${temp}.old\n` +
        `restore: removed ${temp}, left by an interrupted restore (pid ${dead})\n` +
        'coffer: out is not empty; choose an empty folder or pass --force to replace it\n',
    );
    expect(readdirSync(join(dir, 'out'))).toEqual(['mine']);
    expect(readdirSync(dir).filter((n) => n.includes('coffer-restore'))).toEqual([]);
  });
});

describe('a restore that the file system refuses fails as one line naming the entry, not a temporary path', () => {
  const mounts: string[] = [];
  afterAll(() => {
    for (const m of mounts) execFileSync('umount', [m]);
  });

  it('a full disk', () => {
    const dir = workspace();
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    // A real full disk: a 512 KiB tmpfs for a ~900 KB backup (CI runs as root; a failed mount fails this test).
    const small = join(dir, 'small');
    mkdirSync(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', small]);
    mounts.push(small);
    const r = coffer(['restore', '--config', 'coffer.yaml', '--to', 'small/out'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^coffer: cannot restore "[^"]+": no space left on device \(ENOSPC\)\n$/);
    expect(readdirSync(small)).toEqual([]);
  });
});
