import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeIdentity, formatKeyFile } from '../src/index.js';
import { decrypt, encrypt, fixedRandom, pseudoRandom, testKey } from './helpers.js';

// Regression vector of our own format. Regenerate with UPDATE_GOLDEN=1 and review the diff:
// a change here means backups made by older builds may no longer read.
const dir = new URL('./vectors/coffer-v1/', import.meta.url);
const plaintext = pseudoRandom(70_000, 2026);
const key = testKey(7);

describe('coffer-v1 golden vector', () => {
  it('encrypting with fixed randomness reproduces the stored bytes', async () => {
    const made = await encrypt(plaintext, { key, random: fixedRandom(2026), generation: 3 });
    if (process.env.UPDATE_GOLDEN || !existsSync(new URL('backup.age', dir))) {
      writeFileSync(new URL('backup.age', dir), made);
      writeFileSync(new URL('plaintext.bin', dir), plaintext);
      writeFileSync(new URL('backup-key.txt', dir), formatKeyFile(new Uint8Array(pseudoRandom(32, 10_007))));
    }
    expect(made.equals(readFileSync(new URL('backup.age', dir)))).toBe(true);
  });

  it('decrypts with our code, from the stored key file', async () => {
    const { released, error, stream } = await decrypt(readFileSync(new URL('backup.age', dir)), { key });
    expect(error).toBeNull();
    expect(released.equals(readFileSync(new URL('plaintext.bin', dir)))).toBe(true);
    expect(stream.metadata?.generation).toBe(3);
    expect(readFileSync(new URL('backup-key.txt', dir), 'utf8')).toContain(key.keyId);
  });

  it('decrypts with Debian age', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'coffer-golden-'));
    writeFileSync(join(tmp, 'id'), encodeIdentity(key.identity));
    const out = execFileSync('age', ['-d', '-i', join(tmp, 'id'), new URL('backup.age', dir).pathname]);
    expect(out.equals(plaintext)).toBe(true);
  });
});
