import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coffer, workspace } from './helpers.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('CLI conventions', () => {
  it('--version, -V and `coffer version` print the version and exit 0', () => {
    const dir = workspace();
    for (const args of [['--version'], ['-V'], ['version']]) {
      const r = coffer(args, { cwd: dir });
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toBe(`coffer ${version}\n`);
    }
  });

  it('the config comes from -c, else COFFER_CONFIG, else $XDG_CONFIG_HOME/coffer/coffer.yaml', () => {
    const dir = workspace();
    expect(coffer(['init', '-c', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const env = { COFFER_CONFIG: `${dir}/coffer.yaml` };
    const backup = coffer(['backup'], { cwd: dir, env });
    expect(backup.code, backup.stderr).toBe(0);
    mkdirSync(join(dir, 'xdg', 'coffer'), { recursive: true });
    renameSync(join(dir, 'coffer.yaml'), join(dir, 'xdg', 'coffer', 'coffer.yaml'));
    // Paths in the config are relative to its folder: the key and the source moved with it.
    for (const f of ['coffer.key', 'chat']) renameSync(join(dir, f), join(dir, 'xdg', 'coffer', f));
    const listed = coffer(['list', '--json'], { cwd: dir, env: { COFFER_CONFIG: '', XDG_CONFIG_HOME: join(dir, 'xdg') } });
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([]); // the backups stayed in ./backups, outside the new folder
    const missing = coffer(['list'], { cwd: dir, env: { COFFER_CONFIG: join(dir, 'nope.yaml') } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('COFFER_CONFIG is missing');
  });

  it('list --source shows one source; a key that made none of the stored backups fails, naming the keys that did', () => {
    const dir = workspace();
    expect(coffer(['init', '-c', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '-c', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const mine = JSON.parse(coffer(['list', '-c', 'coffer.yaml', '--json', '--source', 'chats'], { cwd: dir }).stdout) as { keyId: string }[];
    expect(mine).toHaveLength(1);
    expect(coffer(['list', '-c', 'coffer.yaml', '--json', '--source', 'photos'], { cwd: dir }).stdout.trim()).toBe('[]');
    const other = workspace();
    expect(coffer(['init', '-c', 'coffer.yaml'], { cwd: other }).code).toBe(0);
    const r = coffer(['list', '-c', 'coffer.yaml', '--key-file', join(other, 'coffer.key')], { cwd: dir });
    expect(r.code).toBe(12);
    expect(r.stderr).toMatch(new RegExp(`no backup was made with key [0-9a-f]{16}; the destinations hold backups made with key ${mine[0]!.keyId}`));
  });

  it('restore and verify with a key that made none of the stored backups exit 12', () => {
    const dir = workspace();
    expect(coffer(['init', '-c', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    expect(coffer(['backup', '-c', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
    const other = workspace();
    expect(coffer(['init', '-c', 'coffer.yaml'], { cwd: other }).code).toBe(0);
    for (const args of [['verify'], ['restore', '--to', 'out']]) {
      const r = coffer([...args, '-c', 'coffer.yaml', '--key-file', join(other, 'coffer.key')], { cwd: dir });
      expect(r.code, args[0]).toBe(12);
      expect(r.stderr).toMatch(/no backup made with key [0-9a-f]{16} was found/);
    }
  });
});
