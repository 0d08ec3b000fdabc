// A model-based test of chunked backups (SPEC §13) against the real pipeline, in process: two
// sources back up to one destination with one key, sometimes at once, sometimes with the
// write-only key, sometimes crashing after a random number of storage operations (kill -9 between
// two requests: nothing after it happens), with retention keeping 1 or 2. After every step, every
// listed backup of each source restores to exactly the tree it was made from.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDecryptStream, deriveKeyMaterial, toWriteOnly } from '@coffer/crypto';
import { MemoryBackend, type GetOptions, type ObjectInfo, type PutOptions, type PutResult, type StorageBackend } from '@coffer/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { unpack } from '../src/archive/unpack.js';
import { readCatalog } from '../src/catalog.js';
import { chunkedTar } from '../src/chunked/read-chunked.js';
import type { Destination } from '../src/destinations.js';
import { silentLogger } from '../src/log.js';
import { backupSource } from '../src/pipeline/backup-source.js';
import { snapshot } from './helpers.js';
import { seededRandom as random } from '../src/testing/seeded-random.js';

/** A process that dies after `budget` storage operations: every later call fails, none reaches the store. */
class Crashing implements StorageBackend {
  readonly name = 'crashing';
  readonly capabilities;
  constructor(
    private readonly inner: StorageBackend,
    private budget: number,
  ) {
    this.capabilities = inner.capabilities;
  }
  private spend(): void {
    if (this.budget-- <= 0) throw new Error('killed');
  }
  async put(key: string, body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    this.spend();
    return this.inner.put(key, body, options);
  }
  async get(key: string, options?: GetOptions): Promise<Readable> {
    this.spend();
    return this.inner.get(key, options);
  }
  async stat(key: string): Promise<ObjectInfo> {
    this.spend();
    return this.inner.stat(key);
  }
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    this.spend();
    yield* this.inner.list(prefix);
  }
  async delete(key: string): Promise<void> {
    this.spend();
    return this.inner.delete(key);
  }
}

const roots: string[] = [];
afterAll(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const destination = (backend: StorageBackend): Destination => ({
  name: 'shared',
  config: { name: 'shared', type: 'local', path: '/unused', format: 'chunked', chunker: { minKiB: 4, avgKiB: 16, maxKiB: 64 } },
  backend,
  cleanup: async () => 0,
});

describe('chunked backups, model-based (SPEC §13)', () => {
  it('every listed backup restores byte for byte after every step of random runs, crashes, key switches and concurrent writers', async () => {
    const seeds = Number(process.env.COFFER_MODEL_SEEDS ?? 12);
    for (let seed = 1; seed <= seeds; seed++) {
      const rnd = random(seed);
      const root = mkdtempSync(join(tmpdir(), 'coffer-model-'));
      roots.push(root);
      const store = new MemoryBackend();
      const key = deriveKeyMaterial(new Uint8Array(32).fill(seed));
      const sources = ['alpha', 'beta'].map((name) => {
        const path = join(root, name);
        mkdirSync(path);
        for (let i = 0; i < 4; i++) writeFileSync(join(path, `file-${i}`), randomBytes(10_000 + Math.floor(rnd() * 60_000)));
        return { name, path, made: new Map<string, Record<string, string>>(), generation: 0 };
      });
      for (let step = 0; step < 10; step++) {
        // Some files change: rewritten, appended to, added.
        for (const s of sources) {
          for (let i = 0; i < 5; i++) if (rnd() < 0.25) writeFileSync(join(s.path, `file-${i}`), randomBytes(5_000 + Math.floor(rnd() * 60_000)));
        }
        const runs = sources.filter(() => rnd() < 0.7);
        await Promise.all(
          runs.map(async (s) => {
            const expected = snapshot(s.path);
            const crashAfter = rnd() < 0.4 ? Math.floor(rnd() * 40) : Infinity;
            const outcome = await backupSource({
              source: { name: s.name, path: s.path, exclude: [], compression: 'none' },
              destinations: [destination(new Crashing(store, crashAfter))],
              key: rnd() < 0.5 ? toWriteOnly(key) : key,
              retention: { keepLast: 1 + Math.floor(rnd() * 2), keepDaily: 0, keepWeekly: 0 },
              knownGeneration: s.generation,
              log: silentLogger,
            }).catch(() => null); // a crash before any destination outcome
            if (outcome) s.generation = Math.max(s.generation, outcome.generation);
            if (outcome) s.made.set(outcome.backupId, expected);
          }),
        );
        // The check, with the full key and no crashes.
        const reader = destination(store);
        for (const s of sources) {
          const { backups, problems } = await readCatalog(reader, key, s.name);
          expect(problems, `seed ${seed} step ${step}`).toEqual([]);
          for (const b of backups) {
            const out = join(root, `restore-${step}-${b.backupId}`);
            mkdirSync(out);
            const manifest = await store.get(b.objectKey);
            await pipeline(manifest, createDecryptStream(key), async (plain: AsyncIterable<Buffer>) => void (await unpack(chunkedTar(plain, reader, key, s.name), out, silentLogger)));
            expect(snapshot(out), `seed ${seed} step ${step}: ${s.name} ${b.backupId}`).toEqual(s.made.get(b.backupId));
            rmSync(out, { recursive: true });
          }
        }
      }
    }
  }, 300_000);
});
