import { describe, expect, it } from 'vitest';
import { encodeStanza, findHeaderEnd, parseHeader } from '../src/age/header.js';
import { b64decode } from '../src/bytes.js';

const mac = 'A'.repeat(43);
const body = `${'Q'.repeat(42)}A`; // canonical: the last character's unused bits are zero
const ok = `age-encryption.org/v1\n-> X25519 ${'B'.repeat(43)}\n${body}\n--- ${mac}\n`;
const parse = (s: string) => parseHeader(Buffer.from(s, 'latin1'));

describe('age header parser (cases after C2SP CCTV age testkit)', () => {
  it('parses a well-formed header', () => {
    const h = parse(ok);
    expect(h.stanzas).toHaveLength(1);
    expect(h.stanzas[0]!.args).toEqual(['X25519', 'B'.repeat(43)]);
    expect(Buffer.from(h.macInput).toString()).toBe(ok.slice(0, ok.indexOf('---') + 3));
  });

  it.each([
    ['CRLF line endings', ok.replace(/\n/g, '\r\n')],
    ['wrong version line', ok.replace('v1', 'v2')],
    ['missing MAC', ok.replace(`--- ${mac}\n`, '')],
    ['MAC with no space', ok.replace('--- ', '---')],
    ['MAC with trailing space', ok.replace(`${mac}\n`, `${mac} \n`)],
    ['truncated MAC', ok.replace(mac, mac.slice(0, 40))],
    ['non-canonical MAC base64', ok.replace(mac, `${'A'.repeat(42)}B`)],
    ['padded base64 body', ok.replace(`${body}\n`, `${body}=\n`)],
    ['body line over 64 columns', ok.replace(`${body}\n`, `${'Q'.repeat(66)}\n`)],
    ['full last body line without the empty line after it', ok.replace(`${body}\n`, `${'Q'.repeat(64)}\n`)],
    ['empty argument', ok.replace('-> X25519 ', '-> X25519  ')],
    ['non-ASCII byte', ok.replace('X25519', 'X2551\u00e9')],
  ])('rejects %s', (_name, text) => {
    expect(() => parse(text)).toThrowError(expect.objectContaining({ code: 'CORRUPTED' }));
  });

  it('encodes bodies that fill their last line with an extra empty line', () => {
    const body = new Uint8Array(48); // 64 base64 characters exactly
    const text = encodeStanza({ args: ['t'], body });
    expect(text.split('\n')).toEqual(['-> t', 'A'.repeat(64), '', '']);
    expect(parse(`age-encryption.org/v1\n${text}--- ${mac}\n`).stanzas[0]!.body).toEqual(body);
  });

  it('refuses an endless header instead of buffering it', () => {
    expect(() => findHeaderEnd(Buffer.alloc(70_000, 0x41))).toThrowError(expect.objectContaining({ code: 'CORRUPTED' }));
    expect(findHeaderEnd(Buffer.from(ok.slice(0, 50)))).toBe(-1);
  });

  it('base64 decoding is strict', () => {
    expect(b64decode('AAA=')).toBeNull();
    expect(b64decode('AB')).toBeNull(); // non-canonical trailing bits
    expect(b64decode('AA')).toEqual(new Uint8Array(1));
  });
});
