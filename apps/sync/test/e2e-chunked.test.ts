// Chunked backups (SPEC §9–§13) through the built CLI, on a local destination.
import { appendFileSync, copyFileSync, existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coffer, cofferRun, expectedTree, listJson, snapshot, workspace } from './helpers.js';

const chunked = (extra = '') => [`  - { name: disk, type: local, path: ./backups, format: chunked, chunker: { minKiB: 16, avgKiB: 64, maxKiB: 256 }${extra} }`];

/** The one chunked source folder: coffer/s…/ */
function sourceFolder(dir: string): string {
  const folders = readdirSync(join(dir, 'backups', 'coffer')).filter((f) => /^s[0-9a-f]{32}$/.test(f));
  expect(folders).toHaveLength(1);
  return join(dir, 'backups', 'coffer', folders[0]!);
}
const chunkFiles = (dir: string) => readdirSync(join(sourceFolder(dir), 'chunks')).sort();
const backupFiles = (dir: string) => readdirSync(join(sourceFolder(dir), 'backups')).sort();
const uploaded = (stderr: string) => {
  const m = /uploaded ([\d.]+ [kMG]?B) of ([\d.]+ [kMG]?B)\) to disk and verified/.exec(stderr);
  expect(m, stderr).not.toBeNull();
  const bytes = (t: string) => Number(t.split(' ')[0]) * ({ B: 1, kB: 1e3, MB: 1e6, GB: 1e9 } as Record<string, number>)[t.split(' ')[1]!]!;
  return { sent: bytes(m![1]!), total: bytes(m![2]!) };
};

function restoreMatches(dir: string, to: string, which = 'latest'): void {
  const r = coffer(['restore', which, '--config', 'coffer.yaml', '--to', to], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  expect(snapshot(join(dir, to))).toEqual(expectedTree(dir));
}

describe('chunked backups', () => {
  it('upload only what changed, restore byte for byte, and keep only the chunks retained backups need', () => {
    const dir = workspace({ destinations: chunked() });
    for (let i = 3; i < 20; i++) writeFileSync(join(dir, 'chat', 'Media', 'Images', `IMG-${i}.jpg`), randomBytes(200_000 + i));
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const first = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const firstUpload = uploaded(first.stderr);
    expect(firstUpload.sent).toBeGreaterThan(firstUpload.total * 0.9);
    // Object names reveal no source or file names (SPEC §12).
    const names = readdirSync(join(dir, 'backups'), { recursive: true }).join('\n');
    expect(names).not.toMatch(/chats|msgstore|IMG/);
    restoreMatches(dir, 'r1');

    // A day: one photo rewritten, the chat database appended to.
    writeFileSync(join(dir, 'chat', 'Media', 'Images', 'IMG-1.jpg'), randomBytes(200_001));
    appendFileSync(join(dir, 'chat', 'msgstore.db'), randomBytes(3_000));
    const second = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    const secondUpload = uploaded(second.stderr);
    // About 5% of the source changed; chunk boundaries and the tar's headers cost some more.
    expect(secondUpload.sent).toBeLessThan(secondUpload.total * 0.25);
    restoreMatches(dir, 'r2');

    // keepLast 1: one manifest and its reference list remain, and exactly the chunks it lists.
    expect(listJson(dir)).toHaveLength(1);
    const [manifest, refs] = backupFiles(dir);
    expect(manifest).toMatch(/\.age$/);
    expect(refs).toBe(manifest!.replace(/\.age$/, '.refs'));
    const listed = readFileSync(join(sourceFolder(dir), 'backups', refs!), 'utf8').split('\n').filter((l) => l.startsWith('chunk ')).map((l) => `${l.slice(6)}.age`);
    expect(chunkFiles(dir)).toEqual(listed.sort());
    // list --json: how many objects the backup is, and what making it sent.
    const [row] = listJson(dir) as unknown as { format: string; objects: number; uploaded: number }[];
    expect(row).toMatchObject({ format: 'chunked', objects: listed.length + 2 });
    expect(Math.abs(row!.uploaded - secondUpload.sent)).toBeLessThan(secondUpload.sent * 0.01);

    // Nothing changed: nothing but the manifest and its list is sent.
    const third = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(third.code, third.stderr).toBe(0);
    expect(uploaded(third.stderr).sent).toBeLessThan(20_000);
    expect(coffer(['verify', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
  });

  it('refuses a chunk swapped for another, a missing chunk, and a chunk replaced by its older content', () => {
    const dir = workspace({ destinations: chunked() });
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const chunks = join(sourceFolder(dir), 'chunks');
    const old = chunkFiles(dir);
    for (const c of old) copyFileSync(join(chunks, c), join(dir, `saved-${c}`));
    writeFileSync(join(dir, 'chat', 'msgstore.db'), randomBytes(300_000));
    expect(coffer(['backup', '--config', 'coffer.yaml', '--source', 'chats'], { cwd: dir }).code).toBe(0);
    const now = chunkFiles(dir);
    const fresh = now.filter((c) => !old.includes(c));
    expect(fresh.length).toBeGreaterThan(0);

    const attempt = (label: string, damage: () => void, undo: () => void, message: RegExp) => {
      damage();
      for (const command of [['verify'], ['restore', '--to', `t-${label}`]]) {
        const r = coffer([...command, '--config', 'coffer.yaml'], { cwd: dir });
        expect(r.code, `${label} ${command[0]}: ${r.stderr}`).toBe(1);
        expect(r.stderr, label).toMatch(message);
        expect(r.stderr, label).not.toMatch(/\n\s+at /);
      }
      expect(existsSync(join(dir, `t-${label}`))).toBe(false);
      undo();
    };
    const victim = join(chunks, fresh[0]!);
    const keep = join(dir, 'victim.age');
    copyFileSync(victim, keep);
    // Swapped: another chunk's object (this source's, still needed) under the victim's name.
    attempt('swapped', () => copyFileSync(join(chunks, now.find((c) => c !== fresh[0])!), victim), () => copyFileSync(keep, victim), /corrupted or has been tampered with/);
    // Older content: a chunk of the previous backup, collected since, put back under this name.
    const older = old.find((c) => !now.includes(c))!;
    attempt('older', () => copyFileSync(join(dir, `saved-${older}`), victim), () => copyFileSync(keep, victim), /corrupted or has been tampered with/);
    attempt('missing', () => renameSync(victim, `${victim}.gone`), () => renameSync(`${victim}.gone`, victim), /missing/);
    expect(coffer(['verify', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
  });

  it('switching a destination from single to chunked keeps older backups readable, then rotates them away', () => {
    const dir = workspace({ retention: 'retention: { keepLast: 2 }' });
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const single = listJson(dir)[0]!;
    const config = readFileSync(join(dir, 'coffer.yaml'), 'utf8').replace('path: ./backups }', 'path: ./backups, format: chunked }');
    writeFileSync(join(dir, 'coffer.yaml'), config);
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(listJson(dir).map((b) => b.id)).toContain(single.id);
    restoreMatches(dir, 'from-single', single.id);
    restoreMatches(dir, 'from-chunked');
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(listJson(dir).map((b) => b.id)).not.toContain(single.id);
    expect(existsSync(join(dir, 'backups', 'coffer', 'chats', `${single.id}.age`))).toBe(false);
  });

  it('a write-only host makes chunked backups and collects; a write-only key from before them is refused clearly', () => {
    const dir = workspace({ destinations: chunked() });
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['key', 'write-only', '--key-file', 'coffer.key', '--out', 'wo.key'], { cwd: dir }).code).toBe(0);
    copyFileSync(join(dir, 'coffer.key'), join(dir, 'full.key'));
    copyFileSync(join(dir, 'wo.key'), join(dir, 'coffer.key'));
    expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    writeFileSync(join(dir, 'chat', 'msgstore.db'), randomBytes(300_000));
    const second = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/removed \d+ chunks? no backup of chats needs/);
    const r = coffer(['restore', '--config', 'coffer.yaml', '--key-file', 'full.key', '--to', 'out'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(snapshot(join(dir, 'out'))).toEqual(expectedTree(dir));

    const old = readFileSync(join(dir, 'wo.key'), 'utf8').split('\n').filter((l) => !/^(chunk-id|chunker-gear|source-id|refs-mac)-key:/.test(l)).join('\n');
    writeFileSync(join(dir, 'coffer.key'), old, { mode: 0o600 });
    const refused = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/made before chunked backups.*coffer key write-only/);
  });

  it('one run feeds a single-file and a chunked destination from one read of the source', () => {
    const dir = workspace({ destinations: ['  - { name: flat, type: local, path: ./flat }', ...chunked()] });
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const r = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    for (const destination of ['flat', 'disk']) {
      const out = coffer(['restore', '--config', 'coffer.yaml', '--destination', destination, '--to', `out-${destination}`], { cwd: dir });
      expect(out.code, out.stderr).toBe(0);
      expect(snapshot(join(dir, `out-${destination}`))).toEqual(expectedTree(dir));
    }
  });

  it('with a vault, mixing the formats is a configuration error naming the field', () => {
    const dir = workspace({ destinations: ['  - { name: flat, type: local, path: ./flat }', ...chunked()] });
    const config = readFileSync(join(dir, 'coffer.yaml'), 'utf8').replace('  file: ./coffer.key', '  file: ./coffer.key\n  vault: { url: "http://127.0.0.1:9", account: alice, tokenFile: ./token }');
    writeFileSync(join(dir, 'coffer.yaml'), config);
    const r = coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/destinations.*same format/);
  });

  it('two machines back up two sources with one key to one destination at the same time, and both always restore', async () => {
    const shared = workspace();
    const destination = [`  - { name: disk, type: local, path: ${join(shared, 'shared-backups')}, format: chunked, chunker: { minKiB: 16, avgKiB: 64, maxKiB: 256 } }`];
    const a = workspace({ destinations: destination });
    const b = workspace({ destinations: destination });
    writeFileSync(join(b, 'coffer.yaml'), readFileSync(join(b, 'coffer.yaml'), 'utf8').replace('  - name: chats', '  - name: photos'));
    expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: a }).code).toBe(0);
    copyFileSync(join(a, 'coffer.key'), join(b, 'coffer.key'));
    for (let round = 0; round < 4; round++) {
      for (const dir of [a, b]) writeFileSync(join(dir, 'chat', 'msgstore.db'), randomBytes(300_000));
      const [ra, rb] = await Promise.all([a, b].map((cwd) => cofferRun(['backup', '--config', 'coffer.yaml'], { cwd })));
      expect(ra!.code, ra!.stderr).toBe(0);
      expect(rb!.code, rb!.stderr).toBe(0);
      for (const [dir, source] of [[a, 'chats'], [b, 'photos']] as const) {
        const to = `out-${round}`;
        const r = coffer(['restore', '--config', 'coffer.yaml', '--source', source, '--to', to], { cwd: dir });
        expect(r.code, r.stderr).toBe(0);
        expect(snapshot(join(dir, to))).toEqual(expectedTree(dir));
      }
    }
    expect(readdirSync(join(shared, 'shared-backups', 'coffer'))).toHaveLength(2);
  });
});
