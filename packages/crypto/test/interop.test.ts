import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Decrypter, Encrypter } from 'age-encryption';
import { createAgeDecryptStream, encodeIdentity, encodeRecipient } from '../src/index.js';
import { decrypt, encrypt, pseudoRandom, testKey } from './helpers.js';

// Debian's `age` is a required peer: without it this suite fails, never skips (.ci/run installs it).
const dir = mkdtempSync(join(tmpdir(), 'coffer-interop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const key = testKey();
const identityFile = join(dir, 'identity.txt');
writeFileSync(identityFile, `${encodeIdentity(key.identity)}\n`, { mode: 0o600 });
const recipient = encodeRecipient(key.recipient);

function age(args: string[], input?: Buffer): Buffer {
  return execFileSync('age', args, { input, maxBuffer: 64 << 20 });
}

describe('Debian age binary', () => {
  it('is installed', () => {
    expect(execFileSync('age', ['--version']).toString()).toMatch(/1\.\d+\.\d+/);
  });

  for (const length of [0, 1, 65_535, 65_536, 65_537, 300_000]) {
    it(`decrypts a ${length}-byte Coffer backup`, async () => {
      const data = pseudoRandom(length, length);
      const file = join(dir, `b-${length}.age`);
      writeFileSync(file, await encrypt(data, { key }));
      expect(age(['-d', '-i', identityFile, file]).equals(data)).toBe(true);
    });
  }

  it('encrypts to our recipient and we decrypt it as a plain age file, not as a backup', async () => {
    const data = pseudoRandom(150_000, 4);
    const file = age(['-r', recipient], data);
    const plain = await decrypt(file, { stream: createAgeDecryptStream(key.identity) });
    expect(plain.error).toBeNull();
    expect(plain.released.equals(data)).toBe(true);
    const asBackup = await decrypt(file, { key });
    expect(asBackup.error?.code).toBe('NOT_A_COFFER_BACKUP');
    expect(asBackup.released.length).toBe(0);
  });

  it('refuses a tampered Coffer backup', async () => {
    const backup = await encrypt(pseudoRandom(70_000, 8), { key });
    backup[backup.length - 100]! ^= 1;
    const file = join(dir, 'tampered.age');
    writeFileSync(file, backup);
    expect(() => execFileSync('age', ['-d', '-i', identityFile, '-o', join(dir, 'out'), file], { stdio: 'pipe' })).toThrow();
  });
});

describe('age-encryption (TypeScript, by the age authors)', () => {
  it('decrypts a Coffer backup (it skips the coffer stanza)', async () => {
    const data = pseudoRandom(200_000, 2);
    const d = new Decrypter();
    d.addIdentity(encodeIdentity(key.identity));
    const out = await d.decrypt(new Uint8Array(await encrypt(data, { key })));
    expect(Buffer.from(out).equals(data)).toBe(true);
  });

  it('encrypts to our recipient and we decrypt it', async () => {
    const data = pseudoRandom(131_073, 3);
    const e = new Encrypter();
    e.addRecipient(recipient);
    const file = await e.encrypt(new Uint8Array(data));
    const plain = await decrypt(Buffer.from(file), { stream: createAgeDecryptStream(key.identity) });
    expect(plain.error).toBeNull();
    expect(plain.released.equals(data)).toBe(true);
  });
});

describe('emergency restore', () => {
  it('age -d | tar -x recovers a folder from a backup of its tar stream', async () => {
    const src = join(dir, 'src');
    execFileSync('mkdir', ['-p', join(src, 'photos')]);
    writeFileSync(join(src, 'msgstore.db'), pseudoRandom(90_000, 11));
    writeFileSync(join(src, 'photos', 'a.jpg'), pseudoRandom(10_000, 12));
    const tar = execFileSync('tar', ['-C', src, '-cf', '-', '.'], { maxBuffer: 64 << 20 });
    const file = join(dir, 'folder.age');
    writeFileSync(file, await encrypt(tar, { key }));
    const dest = join(dir, 'dest');
    execFileSync('mkdir', ['-p', dest]);
    execFileSync('sh', ['-c', `age -d -i "${identityFile}" "${file}" | tar -C "${dest}" -xf -`]);
    expect(readFileSync(join(dest, 'msgstore.db')).equals(readFileSync(join(src, 'msgstore.db')))).toBe(true);
    expect(readFileSync(join(dest, 'photos', 'a.jpg')).equals(readFileSync(join(src, 'photos', 'a.jpg')))).toBe(true);
  });
});
