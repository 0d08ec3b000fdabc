import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coffer, workspace } from './helpers.js';

const BASE = ['key:', '  file: ./coffer.key', 'sources:', '  - name: chats', '    path: ./chat', 'destinations:', '  - { name: disk, type: local, path: ./backups }'];

/** Runs a command that loads `c.yaml` (written from `lines`) in a workspace with a key. */
function withConfig(content: string | Buffer) {
  const dir = workspace();
  expect(coffer(['init', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
  writeFileSync(join(dir, 'c.yaml'), content);
  return coffer(['list', '--config', 'c.yaml'], { cwd: dir });
}

const lineOf = (lines: string[], start: string) => lines.findIndex((l) => l.startsWith(start)) + 1;

describe('YAML aliases: a bomb, or too many, is a configuration error naming the line (exit 2)', () => {
  it('a billion laughs is refused at once, at the alias that crosses the limit', () => {
    const nine = (alias: string) => `[${Array(9).fill(alias).join(', ')}]`;
    const lines = [
      ...BASE.slice(0, 5),
      `    exclude: &a ${nine('"x"')}`,
      ...BASE.slice(5),
      'bomb:',
      ...['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((name, i) => `  ${name}: &${name} ${nine(`*${'abcdefgh'[i]}`)}`),
      '',
    ];
    const started = Date.now();
    const r = withConfig(lines.join('\n'));
    expect(Date.now() - started).toBeLessThan(20_000);
    expect([r.code, r.stderr]).toEqual([2, `coffer: c.yaml:${lineOf(lines, '  e:')}: YAML aliases: the aliases up to *d stand for more than 10000 values; a config needs far fewer\n`]);
  });

  it('200 honest aliases are more than a config needs', () => {
    const lines = [...BASE.slice(0, 5), '    exclude: &tmp "*.tmp"', ...BASE.slice(5), 'retention: { keepLast: 1 }', ...Array.from({ length: 200 }, (_, i) => `# ${i}: *tmp`), 'extra:', ...Array.from({ length: 200 }, (_, i) => `  - *tmp # ${i}`), ''];
    const r = withConfig(lines.join('\n'));
    expect([r.code, r.stderr]).toEqual([2, `coffer: c.yaml:${lineOf(lines, '  - *tmp # 100')}: YAML aliases: more than 100 aliases (*name); a config needs few\n`]);
  });

  it('an alias with no anchor, and one inside its own anchor', () => {
    const missing = withConfig([...BASE.slice(0, 5), '    exclude: *nowhere', ...BASE.slice(5), ''].join('\n'));
    expect([missing.code, missing.stderr]).toEqual([2, 'coffer: c.yaml:6: YAML aliases: *nowhere has no anchor &nowhere before it\n']);
    const loop = withConfig([...BASE.slice(0, 5), '    exclude: &self ["a", *self]', ...BASE.slice(5), ''].join('\n'));
    expect([loop.code, loop.stderr]).toEqual([2, 'coffer: c.yaml:6: YAML aliases: *self is inside the node it stands for\n']);
  });

  it('a config that shares settings through a few aliases works', () => {
    const lines = [
      'key:',
      '  file: ./coffer.key',
      'sources:',
      '  - { name: chats, path: ./chat, exclude: &skip ["**/*.tmp", "**/cache/**"] }',
      ...Array.from({ length: 40 }, (_, i) => `  - { name: s${i}, path: ./chat, exclude: *skip }`),
      'destinations:',
      '  - &disk { name: disk, type: local, path: ./backups }',
      '',
    ];
    const r = withConfig(lines.join('\n'));
    expect([r.code, r.stderr, r.stdout]).toEqual([0, '', 'no backups\n']);
  });
});

describe('a config that is not UTF-8 is refused naming each line (exit 2), never read with replacement characters', () => {
  it('Latin-1 bytes in a path and in a comment', () => {
    const text = Buffer.concat([
      Buffer.from([...BASE.slice(0, 4), '    path: ./chat-'].join('\n')),
      Buffer.from([0xfc]), // ü in Latin-1
      Buffer.from(`\n${BASE.slice(5).join('\n')}\n# caf`),
      Buffer.from([0xe9, 0x0a]),
    ]);
    const r = withConfig(text);
    expect([r.code, r.stderr]).toEqual([
      2,
      'coffer: c.yaml:5: not UTF-8 (byte 0xfc at column 18); save the config as UTF-8\n' + 'coffer: c.yaml:8: not UTF-8 (byte 0xe9 at column 6); save the config as UTF-8\n',
    ]);
  });

  it('a config saved as UTF-16', () => {
    const r = withConfig(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${BASE.join('\n')}\n`, 'utf16le')]));
    expect([r.code, r.stderr.split('\n')[0]]).toEqual([2, 'coffer: c.yaml:1: not UTF-8 (byte 0xff at column 1); save the config as UTF-8']);
  });

  it('a truncated character at the end of a line, and UTF-8 with a byte order mark', () => {
    const cut = withConfig(Buffer.concat([Buffer.from(`${BASE.join('\n')}\n# `), Buffer.from('é').subarray(0, 1), Buffer.from('\n')]));
    expect([cut.code, cut.stderr]).toEqual([2, 'coffer: c.yaml:8: not UTF-8 (byte 0xc3 at column 3); save the config as UTF-8\n']);
    const bom = withConfig(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${BASE.join('\n')}\n# ünïcødé\n`)]));
    expect([bom.code, bom.stderr]).toEqual([0, '']);
  });
});
