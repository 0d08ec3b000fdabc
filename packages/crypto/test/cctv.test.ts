// C2SP CCTV age vectors (npm `cctv-age`, see vectors/README.md): every vector that uses plain X25519
// identities, without armor or passphrases (other identities are left out where they cannot matter), decrypted with `createAgeDecryptStream`.
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createAgeDecryptStream, decodeIdentity } from '../src/index.js';

const vectors = createRequire(import.meta.url)('cctv-age') as Record<string, Uint8Array>;

interface Vector {
  readonly name: string;
  readonly expect: string;
  readonly payload: string;
  readonly identities: readonly string[];
  readonly unsupported: string | null;
  readonly file: Buffer;
}

function parseVector(name: string, bytes: Uint8Array): Vector {
  const all = Buffer.from(bytes);
  const split = all.indexOf('\n\n');
  const fields = all.subarray(0, split).toString('utf8').split('\n').map((line) => {
    const colon = line.indexOf(': ');
    return [line.slice(0, colon), line.slice(colon + 2)] as const;
  });
  const values = (key: string) => fields.filter(([k]) => k === key).map(([, v]) => v);
  const body = all.subarray(split + 2);
  const identities = values('identity').filter((i) => i.startsWith('AGE-SECRET-KEY-1'));
  // A header that must fail to parse fails whatever the identities; anything else may need the
  // identity types Coffer does not implement (post-quantum hybrid).
  const needsOthers = values('identity').length > identities.length && values('expect')[0] !== 'header failure';
  const unsupported =
    values('armored')[0] === 'yes' ? 'armored' :
    values('passphrase').length > 0 ? 'passphrase' :
    needsOthers ? 'non-X25519 identity' :
    fields.some(([k]) => !['expect', 'payload', 'identity', 'file key', 'comment', 'compressed', 'armored', 'passphrase'].includes(k)) ? 'unknown header key' :
    null;
  return {
    name,
    expect: values('expect')[0]!,
    payload: values('payload')[0] ?? '',
    identities,
    unsupported,
    file: values('compressed')[0] === 'zlib' ? inflateSync(body) : body,
  };
}

/**
 * Feeds the file's first 4 KiB (the header and more) in pieces of `step` bytes, then the rest in
 * one write; returns what was released and the error, if any.
 */
async function decrypt(v: Vector, step: number): Promise<{ released: Buffer; error: unknown }> {
  const stream = createAgeDecryptStream(v.identities.map(decodeIdentity));
  const released: Buffer[] = [];
  stream.on('data', (d: Buffer) => released.push(d));
  const done = new Promise<unknown>((resolve) => {
    stream.on('error', resolve);
    stream.on('end', () => resolve(null));
  });
  const head = Math.min(v.file.length, 4096);
  for (let i = 0; i < head; i += step) stream.write(v.file.subarray(i, Math.min(head, i + step)));
  stream.end(v.file.subarray(head));
  const error = await done;
  return { released: Buffer.concat(released), error };
}

const all = Object.entries(vectors).map(([name, bytes]) => parseVector(name, bytes)).sort((a, b) => a.name.localeCompare(b.name));
const applicable = all.filter((v) => v.unsupported === null);

describe('C2SP CCTV age vectors', () => {
  it('the package holds the vectors this suite expects', () => {
    // 143 vectors in cctv-age 0.2.0; 76 apply (67 without armor, passphrases or post-quantum
    // identities; 9 header failures with post-quantum identities). A different count means the
    // package changed and this suite must be looked at again.
    expect(all.length).toBe(143);
    expect(applicable.length).toBe(76);
  });

  for (const v of applicable) {
    it(`${v.name}: ${v.expect}`, async () => {
      for (const step of [4096, 7]) {
        const { released, error } = await decrypt(v, step);
        if (v.expect === 'success') {
          expect(error).toBeNull();
        } else {
          expect(error, `step ${step}`).toBeInstanceOf(Error);
          expect((error as { code?: string }).code).toBe('CORRUPTED');
        }
        // Everything released must be a prefix the vector allows: for a success or a payload
        // failure exactly the plaintext before the failure; for a failure before the payload nothing.
        if (v.expect === 'success' || v.expect === 'payload failure') {
          expect(createHash('sha256').update(released).digest('hex'), `step ${step}`).toBe(v.payload);
        } else {
          expect(released.length).toBe(0);
        }
      }
    });
  }
});
