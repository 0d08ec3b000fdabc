import { describe, expect, it } from 'vitest';
import { padme } from '@coffer/crypto';
import { encodeManifest, readManifest, type ManifestEntry } from './manifest.js';

const entry = (n: number, length: number): ManifestEntry => ({ id: n.toString(16).padStart(64, 'a'), length, sha256: n.toString(16).padStart(64, '0') });
const entries = [entry(1, 1000), entry(2, 1 << 20), entry(3, 5)];

async function read(bytes: Uint8Array, pieceSize = 7): Promise<ManifestEntry[]> {
  const pieces = async function* () {
    for (let i = 0; i < bytes.length; i += pieceSize) yield bytes.subarray(i, i + pieceSize);
  };
  const out: ManifestEntry[] = [];
  for await (const e of readManifest(pieces())) out.push(e);
  return out;
}

describe('manifest text (SPEC §10)', () => {
  it('is the documented lines, padded with empty lines to its Padmé length', () => {
    const bytes = encodeManifest(entries);
    expect(bytes.length).toBe(padme(bytes.length));
    const text = bytes.toString();
    expect(text.startsWith(`coffer-manifest 2\nchunk ${entries[0]!.id} 1000 ${entries[0]!.sha256}\n`)).toBe(true);
    expect(text).toContain(`\nend 3 ${1000 + (1 << 20) + 5}\n`);
    expect(text.replace(/\n+$/, '').split('\n')).toHaveLength(5);
  });

  it('reads back, whatever the pieces it arrives in', async () => {
    for (const size of [1, 7, 64, 1 << 16]) expect(await read(encodeManifest(entries), size)).toEqual(entries);
    expect(await read(encodeManifest([]))).toEqual([]);
  });

  it('refuses a missing or wrong end line, a bad header, a bad line, or text after the end', async () => {
    const good = encodeManifest(entries).toString().replace(/\n+$/, '\n');
    const cases = {
      'end line is missing': good.replace(/end .*\n/, ''),
      'lists 3 chunks': good.replace(/end 3/, 'end 2'),
      'does not start': good.replace('coffer-manifest 2', 'coffer-manifest 3'),
      'neither a chunk nor the end': good.replace(/\nchunk [0-9a-f]{64}/, '\nchunk XYZ'),
      'text follows': `${good}chunk ${entries[0]!.id} 1 ${entries[0]!.sha256}\n`,
    };
    for (const [why, text] of Object.entries(cases)) await expect(read(Buffer.from(text))).rejects.toThrow(why);
    await expect(read(Buffer.from([0x63, 0xff, 0x0a]))).rejects.toThrow();
  });
});
