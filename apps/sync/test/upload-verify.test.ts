import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { deriveKeyMaterial, generateBackupKey, toWriteOnly } from '@coffer/crypto';
import {
  checksumOf,
  MemoryBackend,
  type ChecksumAlgorithm,
  type GetOptions,
  type ObjectInfo,
  type PutOptions,
  type PutResult,
  type StorageBackend,
} from '@coffer/storage';
import { afterAll, describe, expect, it } from 'vitest';
import type { SourceConfig } from '../src/config/schema.js';
import type { Destination } from '../src/destinations.js';
import { silentLogger } from '../src/log.js';
import { backupSource } from '../src/pipeline/backup-source.js';

type Damage = { kind: 'none' } | { kind: 'flip'; at: number } | { kind: 'drop'; from: number };

/**
 * A provider that honestly reports the checksum of what it stored, behind a path that damages
 * the bytes on their way to it (a flaky network or disk): what upload verification is for.
 */
class DamagingBackend implements StorageBackend {
  readonly name = 'damaging';
  readonly capabilities;
  damage: Damage = { kind: 'none' };
  constructor(
    private readonly inner: MemoryBackend,
    private readonly algorithm: ChecksumAlgorithm | 'none',
  ) {
    this.capabilities = { ...inner.capabilities, providerChecksum: algorithm };
  }

  async put(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    const damage = this.damage;
    let offset = 0;
    const stored: Buffer[] = [];
    async function* damaged() {
      for await (const chunk of body) {
        const piece = Buffer.from(chunk);
        if (damage.kind === 'flip' && damage.at >= offset && damage.at < offset + piece.length) piece[damage.at - offset]! ^= 0x01;
        const kept = damage.kind === 'drop' ? piece.subarray(0, Math.max(0, damage.from - offset)) : piece;
        offset += piece.length;
        stored.push(kept);
        yield kept;
      }
    }
    const result = await this.inner.put(key, damaged(), options);
    if (this.algorithm === 'none') return { key, size: result.size };
    return { key, size: result.size, checksum: { algorithm: this.algorithm, value: checksumOf(this.algorithm, Buffer.concat(stored)) } };
  }
  get(key: string, options?: GetOptions): Promise<Readable> {
    return this.inner.get(key, options);
  }
  stat(key: string): Promise<ObjectInfo> {
    return this.inner.stat(key);
  }
  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}

const roots: string[] = [];
afterAll(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function setup(algorithm: ChecksumAlgorithm | 'none', format: 'single' | 'chunked' = 'single') {
  const root = mkdtempSync(join(tmpdir(), 'coffer-verify-'));
  roots.push(root);
  mkdirSync(join(root, 'chat'));
  writeFileSync(join(root, 'chat', 'msgstore.db'), randomBytes(300_000));
  const source: SourceConfig = { name: 'chats', path: join(root, 'chat'), exclude: [], compression: 'none' };
  const backend = new DamagingBackend(new MemoryBackend(), algorithm);
  const destination: Destination = { name: 'flaky', config: { name: 'flaky', type: 'local', path: root, format, chunker: { minKiB: 16, avgKiB: 64, maxKiB: 256 } }, backend, cleanup: async () => 0 };
  const key = toWriteOnly(deriveKeyMaterial(generateBackupKey()));
  let generation = 0;
  const backup = async () => {
    const outcome = await backupSource({
      source,
      destinations: [destination],
      key,
      retention: { keepLast: 1, keepDaily: 0, keepWeekly: 0 },
      knownGeneration: generation,
      log: silentLogger,
    });
    generation = outcome.generation;
    return outcome;
  };
  const stored = async () => {
    const keys: string[] = [];
    for await (const info of backend.list('coffer/')) keys.push(info.key);
    return keys;
  };
  return { backend, backup, stored };
}

describe('upload verification', () => {
  it.each<ChecksumAlgorithm | 'none'>(['crc32', 'sha256', 'md5', 'none'])(
    'with a %s provider checksum: an undamaged upload verifies and rotates, a bit flipped on the way fails the run, is removed, and the previous backup stays',
    async (algorithm) => {
      const { backend, backup, stored } = setup(algorithm);
      const first = await backup();
      expect(first.destinations[0]).toMatchObject({ ok: true });
      const second = await backup();
      expect(second.destinations[0]).toMatchObject({ ok: true, removed: [first.backupId] });
      expect(await stored()).toEqual([`coffer/chats/${second.backupId}.age`]);

      backend.damage = { kind: 'flip', at: 200_000 }; // inside the encrypted payload
      const third = await backup();
      const expected = algorithm === 'none' ? 'the object read back differs from the bytes sent' : `provider ${algorithm} differs from the bytes sent`;
      expect(third.destinations[0]).toMatchObject({ ok: false, error: `destination flaky: upload verification failed: ${expected}`, removed: [] });
      expect(await stored()).toEqual([`coffer/chats/${second.backupId}.age`]);
    },
  );

  it('a provider that stored fewer bytes than were sent fails the run and keeps the previous backup', async () => {
    const { backend, backup, stored } = setup('crc32');
    const first = await backup();
    backend.damage = { kind: 'drop', from: 150_000 };
    const second = await backup();
    expect(second.destinations[0]).toMatchObject({ ok: false, error: expect.stringMatching(/^destination flaky: upload verification failed: provider stored 150000 bytes, \d+ were sent$/) });
    expect(await stored()).toEqual([`coffer/chats/${first.backupId}.age`]);
  });

  it.each<ChecksumAlgorithm | 'none'>(['crc32', 'md5', 'none'])(
    'chunked, with a %s provider checksum: a chunk damaged on the way fails the run before any manifest, is removed, and the previous backup keeps every chunk',
    async (algorithm) => {
      const { backend, backup, stored } = setup(algorithm, 'chunked');
      const first = await backup();
      expect(first.destinations[0]).toMatchObject({ ok: true });
      const before = (await stored()).sort();
      expect(before.filter((k) => k.endsWith('.refs'))).toHaveLength(1);
      writeFileSync(join(roots.at(-1)!, 'chat', 'msgstore.db'), randomBytes(300_000));
      backend.damage = { kind: 'flip', at: 1_000 }; // every object: the first new chunk fails
      const second = await backup();
      const expected = algorithm === 'none' ? 'the object read back differs from the bytes sent' : `provider ${algorithm} differs from the bytes sent`;
      expect(second.destinations[0]).toMatchObject({ ok: false, error: expect.stringContaining(expected) });
      expect((await stored()).sort()).toEqual(before);
    },
  );
});
