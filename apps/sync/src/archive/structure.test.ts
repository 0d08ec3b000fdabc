import { describe, expect, it } from 'vitest';
import { ArchiveStructure, safeRelative, shown } from './structure.js';
import type { DecodedHeader } from './tar-headers.js';

type Entry = Pick<DecodedHeader, 'name' | 'type' | 'linkname'>;
const file = (name: string): Entry => ({ name, type: 'file' });
const folder = (name: string): Entry => ({ name, type: 'directory' });
const link = (name: string, linkname = 'target'): Entry => ({ name, type: 'symlink', linkname });

/** The message of the first entry refused, or 'ok'. */
function check(entries: Entry[], structure = new ArchiveStructure()): string {
  try {
    for (const entry of entries) structure.add(entry);
    return 'ok';
  } catch (err) {
    expect(err).toMatchObject({ code: 'UNSAFE_ARCHIVE', exitCode: 1 });
    return (err as Error).message.replace(/^the backup holds /, '');
  }
}

describe('safeRelative', () => {
  it('accepts relative names and refuses absolute ones, .. and NUL', () => {
    expect(safeRelative('a/b.txt')).toBe('a/b.txt');
    expect(safeRelative('./a//b/')).toBe('a/b');
    expect(safeRelative('./')).toBe('');
    for (const bad of ['/etc/passwd', '../x', 'a/../../x', 'a/..', 'a\0b']) expect(safeRelative(bad), bad).toBeNull();
  });
});

describe('ArchiveStructure', () => {
  it('returns where each entry goes, and null for what is not restored', () => {
    const s = new ArchiveStructure();
    expect(s.add(folder('./'))).toBe('');
    expect(s.add(file('./a//b'))).toBe('a/b');
    expect(s.add({ name: 'fifo', type: 'fifo' })).toBeNull();
    expect(s.add({ name: 'hard', type: 'link', linkname: 'a/b' })).toBeNull();
    expect(s.add(file('fifo'))).toBe('fifo'); // a skipped entry takes no name
  });

  it('accepts folders named after their content, in either order', () => {
    expect(check([file('a/b/c'), folder('a/b'), folder('a'), link('a/l'), file('a/b/d')])).toBe('ok');
    expect(check([folder('a'), folder('a/b'), file('a/b/c')])).toBe('ok');
  });

  it.each([
    ['a file twice', [file('x'), file('./x')], '"./x" twice'],
    ['a folder twice', [folder('d'), folder('d/')], '"d/" twice'],
    ['the restore folder twice', [folder('.'), folder('./')], '"./" twice'],
    ['a symlink twice', [link('l'), link('l')], '"l" twice'],
    ['a folder, then a file', [folder('x'), file('x')], '"x" both as a folder and as a file'],
    ['a file, then a folder', [file('x'), folder('x')], '"x" both as a file and as a folder'],
    ['content, then a file', [file('x/y'), file('x')], '"x" both as a folder and as a file'],
    ['content deep down, then a file', [file('x/y/z'), file('x/y')], '"x/y" both as a folder and as a file'],
    ['content, then a symlink', [file('x/y'), link('x')], '"x" both as a folder and as a symlink'],
    ['a file, then content', [file('x'), file('x/y/z')], '"x/y/z" inside "x", which is a file'],
    ['a symlink, then content', [link('x'), folder('x/y')], '"x/y" inside the symlink "x"'],
    ['a symlink, then content deep down', [folder('a'), link('a/x'), file('a/x/y/z')], '"a/x/y/z" inside the symlink "a/x"'],
    ['a file named .', [file('.')], 'a file named "." (the restore folder itself)'],
    ['a symlink named .', [link('./')], 'a symlink named "./" (the restore folder itself)'],
    ['an absolute name', [file('/etc/passwd')], 'an entry that would land outside the restore folder: "/etc/passwd"'],
    ['a skipped entry with a .. name', [{ name: '../dev', type: 'fifo' }], 'an entry that would land outside the restore folder: "../dev"'],
    ['an empty symlink', [link('l', '')], 'the symlink "l" with an empty target'],
  ] as const)('refuses %s', (_what, entries, message) => {
    expect(check([...entries])).toBe(message);
  });

  it('counts bytes, not characters, against NAME_MAX and PATH_MAX', () => {
    expect(check([file('é'.repeat(127))])).toBe('ok'); // 254 bytes
    expect(check([file(`a/${'é'.repeat(128)}/b`)])).toBe(`${shown(`a/${'é'.repeat(128)}/b`)}: one name in it is 256 bytes long, more than the 255 a file system allows`);
    const path = (bytes: number) => `${'d'.repeat(200)}/`.repeat(Math.floor(bytes / 201)) + 'f'.repeat(bytes % 201);
    expect(Buffer.byteLength(path(4095))).toBe(4095);
    expect(check([file(path(4095))])).toBe('ok');
    expect(check([file(path(4096))])).toBe(`${shown(path(4096))}: its path is 4096 bytes long, more than the 4095 a path may have`);
    expect(check([link('l', 'x'.repeat(4095))])).toBe('ok');
    expect(check([link('l', 'x'.repeat(4096))])).toBe('the symlink "l" whose target is 4096 bytes long, more than the 4095 a link may hold');
  });

  it('in a restore, leaves room for the restore folder’s own path', () => {
    const s = new ArchiveStructure(100, '/restore/here');
    expect(check([file('f'.repeat(100))], s)).toBe('ok');
    expect(check([file('g'.repeat(101))], s)).toBe(`${shown('g'.repeat(101))}: its path is 101 bytes long, too long to restore under /restore/here (a path may have 4095 bytes); restore into a folder with a shorter path`);
  });

  it('shows names on one line, cut in the middle when long', () => {
    expect(shown('a\nb"c')).toBe('"a\\nb\\"c"');
    expect(shown(`${'a'.repeat(60)}${'😀'.repeat(30)}`)).toBe(`"${'a'.repeat(50)}…${'😀'.repeat(20)}"`);
  });

  it('keeps each name once, however many entries (a million in a few seconds)', () => {
    const s = new ArchiveStructure();
    const started = performance.now();
    for (let i = 0; i < 1_000_000; i++) s.add(file(`folder-${i % 1000}/sub/file-${i}.jpg`));
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(() => s.add(file('folder-7/sub/file-7.jpg'))).toThrow('twice');
  });
});
