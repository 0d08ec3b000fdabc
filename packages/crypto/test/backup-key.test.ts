import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  deriveKeyId,
  deriveKeyMaterial,
  formatBackupKey,
  formatKeyFile,
  formatWriteOnlyKeyFile,
  generateBackupKey,
  parseBackupKey,
  parseKeyFile,
  toWriteOnly,
} from '../src/index.js';

describe('backup key', () => {
  it('is 32 random bytes shown as 16 groups of 4 hex digits', () => {
    const a = generateBackupKey();
    const b = generateBackupKey();
    expect(a.length).toBe(32);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    const shown = formatBackupKey(a);
    expect(shown).toMatch(/^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
    expect(Buffer.from(parseBackupKey(shown)).equals(Buffer.from(a))).toBe(true);
  });

  it('accepts any case, spaces, dashes and line breaks', () => {
    const key = generateBackupKey();
    const hexKey = Buffer.from(key).toString('hex');
    const messy = `  ${hexKey.slice(0, 20).toUpperCase()}-${hexKey.slice(20, 40)}\r\n${hexKey.slice(40)}\t`;
    expect(Buffer.from(parseBackupKey(messy)).equals(Buffer.from(key))).toBe(true);
  });

  it.each([
    ['a'.repeat(63), 'backup key must have 64 hexadecimal digits, got 63'],
    ['a'.repeat(65), 'backup key must have 64 hexadecimal digits, got 65'],
    ['', 'backup key must have 64 hexadecimal digits, got 0'],
    [`${'a'.repeat(10)}O${'a'.repeat(53)}`, "invalid character 'O' at position 11 (did you mean '0'?)"],
    [`${'a'.repeat(3)}l${'a'.repeat(60)}`, "invalid character 'l' at position 4 (did you mean '1'?)"],
    [`${'a'.repeat(5)}g${'a'.repeat(58)}`, "invalid character 'g' at position 6;"],
    [`aaaa.${'a'.repeat(60)}`, "invalid character '.' at position 5;"],
    [`${'a'.repeat(64)}é`, 'invalid character U+00E9 at position 65'],
    [`${'a'.repeat(30)}\u200b${'a'.repeat(34)}`, 'invalid character U+200B at position 31'],
  ])('rejects %j with a clear error', (input, message) => {
    expect(() => parseBackupKey(input)).toThrowError(expect.objectContaining({ code: 'INVALID_KEY', message: expect.stringContaining(message) }));
  });

  it('key ids are stable, distinct per key, and do not reveal the key', () => {
    const key = generateBackupKey();
    const id = deriveKeyId(key);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(deriveKeyId(key)).toBe(id);
    expect(deriveKeyId(generateBackupKey())).not.toBe(id);
    expect(Buffer.from(key).toString('hex')).not.toContain(id);
  });

  it('derives distinct subkeys for every label', () => {
    const m = deriveKeyMaterial(generateBackupKey());
    const all = [m.identity, m.metadataMacKey, m.anchorSigningKey, m.recipient, ...Object.values(m.chunkKeys)].map((b) => Buffer.from(b).toString('hex'));
    expect(new Set(all).size).toBe(8);
  });

  it('derives the chunk keys with the labels of SPEC §2 (checked with node:crypto HKDF)', () => {
    const key = generateBackupKey();
    const m = deriveKeyMaterial(key);
    const hkdf = (label: string) => Buffer.from(hkdfSync('sha256', key, new Uint8Array(0), label, 32)).toString('hex');
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    expect(hex(m.chunkKeys.chunkId)).toBe(hkdf('coffer/v2/chunk-id'));
    expect(hex(m.chunkKeys.gear)).toBe(hkdf('coffer/v2/chunker-gear'));
    expect(hex(m.chunkKeys.sourceId)).toBe(hkdf('coffer/v2/source-id'));
    expect(hex(m.chunkKeys.refsMac)).toBe(hkdf('coffer/v2/refs-mac'));
  });
});

describe('key files', () => {
  it('round-trip the full key and the write-only key', () => {
    const key = generateBackupKey();
    const full = parseKeyFile(formatKeyFile(key));
    expect(full.kind).toBe('full');
    const m = deriveKeyMaterial(key);
    const wo = parseKeyFile(formatWriteOnlyKeyFile(toWriteOnly(m)));
    expect(wo.kind).toBe('write-only');
    expect(wo.material).toEqual(toWriteOnly(m));
    expect('identity' in wo.material).toBe(false);
    // The write-only file must not contain the backup key or the identity.
    const text = formatWriteOnlyKeyFile(toWriteOnly(m));
    expect(text).not.toContain(Buffer.from(key).toString('hex').slice(0, 8));
    expect(text).not.toContain(Buffer.from(m.identity).toString('base64').slice(0, 12));
  });

  it('a write-only file from before chunked backups still parses, without chunk keys; a partial set is refused', () => {
    const m = deriveKeyMaterial(generateBackupKey());
    const text = formatWriteOnlyKeyFile(toWriteOnly(m));
    expect(text).toContain('chunk-id-key: ');
    const old = text.split('\n').filter((l) => !/^(chunk-id|chunker-gear|source-id|refs-mac)-key:/.test(l)).join('\n');
    const parsed = parseKeyFile(old);
    expect(parsed.kind).toBe('write-only');
    expect(parsed.material.chunkKeys).toBeUndefined();
    expect(parsed.material.keyId).toBe(m.keyId);
    const partial = text.split('\n').filter((l) => !l.startsWith('refs-mac-key:')).join('\n');
    expect(() => parseKeyFile(partial)).toThrow(/refs-mac-key is missing or malformed/);
  });

  it('the write-only key carries the anchor-signing seed; a file from before signed anchors still parses without it', () => {
    const m = deriveKeyMaterial(generateBackupKey());
    const text = formatWriteOnlyKeyFile(toWriteOnly(m));
    expect(text).toContain(`anchor-signing-key: ${Buffer.from(m.anchorSigningKey).toString('base64').replace(/=+$/, '')}`);
    expect(text).not.toContain('anchor-mac-key');
    // The old format: an anchor-mac-key line (ignored) instead of anchor-signing-key.
    const old = text.replace(/^anchor-signing-key: .*$/m, `anchor-mac-key: ${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`);
    const parsed = parseKeyFile(old);
    expect(parsed.kind).toBe('write-only');
    expect(parsed.material.anchorSigningKey).toBeUndefined();
    expect(parsed.material.metadataMacKey).toEqual(m.metadataMacKey);
    expect(() => parseKeyFile(text.replace(/^(anchor-signing-key: ).*$/m, '$1AAAA'))).toThrowError(/anchor-signing-key is malformed/);
  });

  it('accepts a bare 64-digit key', () => {
    const key = generateBackupKey();
    expect(parseKeyFile(`${formatBackupKey(key)}\n`).kind).toBe('full');
  });

  it('rejects other text without echoing it', () => {
    expect(() => parseKeyFile('hello\nworld')).toThrowError(/not a Coffer key file/);
    expect(() => parseKeyFile('coffer-write-only-key-v1\nkey-id: zz')).toThrowError(/key-id is missing or malformed/);
  });
});
