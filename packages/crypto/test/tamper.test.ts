import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CORRUPTED_MESSAGE, CHUNK_BYTES } from '../src/index.js';
import { encodeStanza, findHeaderEnd, parseHeader, type Stanza } from '../src/age/header.js';
import { wrapFileKey } from '../src/age/x25519-stanza.js';
import { buildCofferStanza } from '../src/coffer-stanza.js';
import { headerMac } from '../src/header-mac.js';
import { b64encode } from '../src/bytes.js';
import { decrypt, encrypt, metadata, pseudoRandom, testKey } from './helpers.js';

const SEALED = CHUNK_BYTES + 16;
const data = pseudoRandom(3 * CHUNK_BYTES + 1234, 42);
const backup = await encrypt(data);
const other = await encrypt(pseudoRandom(3 * CHUNK_BYTES + 1234, 43), { generation: 2 });
const payloadStart = (b: Uint8Array) => findHeaderEnd(b) + 16;
const chunksOf = (b: Buffer) => {
  const start = payloadStart(b);
  const chunks: Buffer[] = [];
  for (let i = start; i < b.length; i += SEALED) chunks.push(b.subarray(i, i + SEALED));
  return { head: b.subarray(0, start), chunks };
};

/** Every attack must fail, and whatever was released before the failure must be genuine plaintext. */
async function expectRejected(bytes: Buffer, maxReleased = 0, codes = ['CORRUPTED']) {
  const { released, error } = await decrypt(bytes, { writeSize: 10_000 });
  expect(error, 'tampered backup was accepted').not.toBeNull();
  expect(codes).toContain(error!.code);
  if (error!.code === 'CORRUPTED') {
    expect(error!.message).toBe(CORRUPTED_MESSAGE);
    expect(error!.cause).toBeUndefined();
  }
  expect(released.length).toBeLessThanOrEqual(maxReleased);
  expect(released.equals(data.subarray(0, released.length))).toBe(true);
}

/** Plaintext that may be released before damage at `offset`: only chunks that end before it. */
const safeBefore = (offset: number) => Math.max(0, Math.floor((offset - payloadStart(backup)) / SEALED)) * CHUNK_BYTES;

describe('tampering (property-based)', () => {
  it('any flipped bit is rejected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: backup.length - 1 }), fc.integer({ min: 0, max: 7 }), async (offset, bit) => {
        const bad = Buffer.from(backup);
        bad[offset]! ^= 1 << bit;
        // A flip inside the key id says "wrong key" — also a refusal.
        await expectRejected(bad, safeBefore(offset), ['CORRUPTED', 'WRONG_KEY']);
      }),
      { numRuns: 300 },
    );
  });

  it('truncation at any offset is rejected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: backup.length - 1 }), async (length) => {
        await expectRejected(backup.subarray(0, length), safeBefore(length));
      }),
      { numRuns: 300 },
    );
  });

  it('truncation exactly at every chunk boundary is rejected', async () => {
    const { head, chunks } = chunksOf(backup);
    for (let n = 0; n < chunks.length; n++) await expectRejected(Buffer.concat([head, ...chunks.slice(0, n)]), n * CHUNK_BYTES);
  });

  it('trailing bytes are rejected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: SEALED + 10 }), async (extra) => {
        await expectRejected(Buffer.concat([backup, extra]), data.length);
      }),
      { numRuns: 50 },
    );
  });

  it('dropped, duplicated and reordered chunks are rejected', async () => {
    const { head, chunks } = chunksOf(backup);
    const n = chunks.length;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n - 1 }), async (i, j) => {
        const dropped = chunks.filter((_, k) => k !== i);
        await expectRejected(Buffer.concat([head, ...dropped]), data.length);
        const duplicated = [...chunks.slice(0, i + 1), chunks[i]!, ...chunks.slice(i + 1)];
        await expectRejected(Buffer.concat([head, ...duplicated]), data.length);
        if (i !== j) {
          const swapped = [...chunks];
          [swapped[i], swapped[j]] = [swapped[j]!, swapped[i]!];
          await expectRejected(Buffer.concat([head, ...swapped]), Math.min(i, j) * CHUNK_BYTES);
        }
      }),
    );
  });
});

describe('moving parts between backups', () => {
  const a = parseHeader(backup.subarray(0, findHeaderEnd(backup)));
  const b = parseHeader(other.subarray(0, findHeaderEnd(other)));
  const rebuild = (stanzas: readonly Stanza[], mac: Uint8Array, rest: Buffer) =>
    Buffer.concat([Buffer.from(`age-encryption.org/v1\n${stanzas.map(encodeStanza).join('')}--- ${b64encode(mac)}\n`), rest]);
  const restA = backup.subarray(findHeaderEnd(backup));

  it('the X25519 stanza of another backup', async () => {
    await expectRejected(rebuild([b.stanzas[0]!, a.stanzas[1]!], a.mac, restA));
  });

  it('the coffer stanza of another backup (relabelling its generation)', async () => {
    await expectRejected(rebuild([a.stanzas[0]!, b.stanzas[1]!], a.mac, restA));
  });

  it('the payload of another backup under this header', async () => {
    await expectRejected(Buffer.concat([backup.subarray(0, findHeaderEnd(backup)), other.subarray(findHeaderEnd(other))]));
  });

  it('edited metadata, keeping the MAC', async () => {
    const coffer = a.stanzas[1]!;
    const edited = Buffer.from(Buffer.from(coffer.body).toString().replace('"generation":1', '"generation":9'));
    await expectRejected(rebuild([a.stanzas[0]!, { args: coffer.args, body: edited }], a.mac, restA));
  });

  it('an extra stanza, or the two stanzas reordered', async () => {
    await expectRejected(rebuild([a.stanzas[0]!, a.stanzas[1]!, { args: ['grease'], body: new Uint8Array(3) }], a.mac, restA));
    await expectRejected(rebuild([a.stanzas[1]!, a.stanzas[0]!], a.mac, restA));
  });
});

describe('forgery by someone who knows only the public recipient', () => {
  const key = testKey();
  const forge = (coffer: (prefix: Uint8Array) => Stanza) => {
    const fileKey = new Uint8Array(16).fill(1);
    const x = wrapFileKey(key.recipient, fileKey, new Uint8Array(32).fill(2));
    const prefix = Buffer.from(`age-encryption.org/v1\n${encodeStanza(x)}`);
    const macInput = Buffer.from(`${prefix}${encodeStanza(coffer(prefix))}---`);
    return Buffer.concat([macInput, Buffer.from(` ${b64encode(headerMac(fileKey, macInput))}\n`), restA()]);
  };
  const restA = () => backup.subarray(findHeaderEnd(backup));
  const legit = parseHeader(backup.subarray(0, findHeaderEnd(backup))).stanzas[1]!;

  it('copying a genuine coffer stanza onto a new file key fails', async () => {
    await expectRejected(forge(() => legit));
  });

  it('a coffer stanza MACed with a guessed key fails', async () => {
    const guess = { ...key, metadataMacKey: new Uint8Array(32) };
    await expectRejected(forge((prefix) => buildCofferStanza(guess, prefix, Buffer.from(JSON.stringify({ format: 1, ...metadata(99) })))));
  });
});

describe('wrong key', () => {
  it('names both key ids and releases nothing', async () => {
    const mine = testKey(1);
    const theirs = testKey(2);
    const { error, released } = await decrypt(backup, { key: theirs });
    expect(error?.code).toBe('WRONG_KEY');
    expect(error?.message).toContain(mine.keyId);
    expect(error?.message).toContain(theirs.keyId);
    expect(released.length).toBe(0);
  });
});
