// The age spec's MUST for X25519 stanzas: a malformed one fails the whole file, even when another
// stanza would unwrap the file key. Each case puts a malformed stanza before a valid one in a file
// made by Debian's age 1.1.1 and recomputes the header MAC with the real file key, so the only
// thing wrong with the file is the malformed stanza.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createAgeDecryptStream, decodeIdentity } from '../src/index.js';
import { findHeaderEnd, headerPrefix, parseHeader, type Stanza } from '../src/age/header.js';
import { unwrapFileKey } from '../src/age/x25519-stanza.js';
import { b64encode } from '../src/bytes.js';
import { headerMac } from '../src/header-mac.js';
import { decrypt } from './helpers.js';

const vector = (name: string) => readFileSync(new URL(`./vectors/age-1.1.1/${name}`, import.meta.url));
const identity = decodeIdentity(vector('identity.txt').toString());
const original = vector('hello.txt.age');
const headerEnd = findHeaderEnd(original);
const header = parseHeader(original.subarray(0, headerEnd));
const fileKey = unwrapFileKey(identity, header.stanzas[0]!)!;

/** The same file with stanzas added before and after its own, and a header MAC right for them. */
function withStanzas(before: readonly Stanza[], after: readonly Stanza[] = []): Buffer {
  const macInput = Buffer.from(`${headerPrefix([...before, ...header.stanzas, ...after])}---`, 'latin1');
  const mac = b64encode(headerMac(fileKey, macInput));
  return Buffer.concat([macInput, Buffer.from(` ${mac}\n`), original.subarray(headerEnd)]);
}

const share = (bytes: Uint8Array) => b64encode(bytes);
const good = { share: share(new Uint8Array(32).fill(7)), body: new Uint8Array(32).fill(1) };

const malformed: Record<string, Stanza> = {
  'no share argument': { args: ['X25519'], body: good.body },
  'two share arguments': { args: ['X25519', good.share, good.share], body: good.body },
  'a 31-byte share': { args: ['X25519', share(new Uint8Array(31).fill(7))], body: good.body },
  'a 33-byte share': { args: ['X25519', share(new Uint8Array(33).fill(7))], body: good.body },
  // 32 bytes leave 4 spare bits in the last base64 digit: canonical encodings set them to zero.
  'a non-canonical base64 share': { args: ['X25519', `${good.share.slice(0, -1)}${String.fromCharCode(good.share.charCodeAt(good.share.length - 1) + 1)}`], body: good.body },
  'a low-order share (all-zero shared secret)': { args: ['X25519', share(new Uint8Array(32))], body: good.body },
  'a 33-byte body': { args: ['X25519', good.share], body: new Uint8Array(33).fill(1) },
};

describe('X25519 stanza rules (age spec MUST)', () => {
  it('control: a well-formed stanza for another recipient before ours still decrypts', async () => {
    const { released, error } = await decrypt(withStanzas([{ args: ['X25519', good.share], body: good.body }]), { stream: createAgeDecryptStream(identity) });
    expect(error).toBeNull();
    expect(released.equals(vector('hello.txt'))).toBe(true);
  });

  for (const [name, stanza] of Object.entries(malformed)) {
    it(`a stanza with ${name} fails the file, before or after the matching one`, async () => {
      for (const file of [withStanzas([stanza]), withStanzas([], [stanza])]) {
        const { released, error } = await decrypt(file, { stream: createAgeDecryptStream(identity) });
        expect(error?.code).toBe('CORRUPTED');
        expect(released.length).toBe(0);
      }
    });
  }
});

