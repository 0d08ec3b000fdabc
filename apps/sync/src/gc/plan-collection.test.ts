import { describe, expect, it } from 'vitest';
import { planCollection } from './plan-collection.js';
import { seededRandom as random } from '../testing/seeded-random.js';

describe('planCollection', () => {
  const refs = (entries: Record<string, string[] | 'invalid'>) => new Map(Object.entries(entries));

  it('deletes the chunks no listed manifest names, and reference lists without a manifest', () => {
    const plan = planCollection({
      manifests: ['b2', 'b3'],
      refs: refs({ b1: ['a', 'b'], b2: ['b', 'c'], b3: ['c', 'd'] }),
      chunks: ['a', 'b', 'c', 'd', 'e'],
    });
    expect(plan).toEqual({ deleteChunks: ['a', 'e'], deleteRefs: ['b1'], blockedBy: [] });
  });

  it('deletes no chunk while a listed manifest has no reference list, or one that did not verify', () => {
    for (const entries of [{ b2: ['b'] }, { b2: ['b'], b3: 'invalid' }] as Record<string, string[] | 'invalid'>[]) {
      const plan = planCollection({ manifests: ['b2', 'b3'], refs: refs(entries), chunks: ['a', 'b', 'c'] });
      expect(plan.deleteChunks).toEqual([]);
      expect(plan.blockedBy).toEqual(['b3']);
    }
  });

  it('an invalid reference list without a manifest is deleted, and blocks nothing', () => {
    const plan = planCollection({ manifests: ['b2'], refs: refs({ b1: 'invalid', b2: ['b'] }), chunks: ['a', 'b'] });
    expect(plan).toEqual({ deleteChunks: ['a'], deleteRefs: ['b1'], blockedBy: [] });
  });
});

// A model of SPEC §13: writers of two sources share one destination; each run lists, uploads
// chunks, then the reference list, then the manifest, rotates (keep last K), and collects with
// planCollection. Any step may be the last (crash, kill -9, full disk); the provider may also damage
// a reference list. After every single step, every listed manifest must still have all its chunks.

type Obj = { kind: 'chunk' } | { kind: 'refs'; chunks: string[]; valid: boolean } | { kind: 'manifest'; chunks: string[]; generation: number };

class World {
  readonly store = new Map<string, Obj>();
  list(prefix: string): [string, Obj][] {
    return [...this.store].filter(([k]) => k.startsWith(prefix));
  }
  /** The invariant: a manifest that is listed can be restored. */
  check(context: string): void {
    for (const [key, obj] of this.store) {
      if (obj.kind !== 'manifest') continue;
      const source = key.split('/')[0];
      for (const chunk of obj.chunks) if (!this.store.has(`${source}/chunks/${chunk}`)) throw new Error(`${context}: ${key} lost ${chunk}`);
    }
  }
}

/** One run of one source, as a sequence of atomic steps (SPEC §13, steps 1-5). */
function* run(world: World, source: string, chunks: string[], generation: number, keep: number): Generator<string> {
  const present = new Set(world.list(`${source}/chunks/`).map(([k]) => k.split('/')[2]!));
  yield 'listed';
  for (const chunk of new Set(chunks)) {
    if (present.has(chunk)) continue;
    world.store.set(`${source}/chunks/${chunk}`, { kind: 'chunk' });
    yield `put chunk ${chunk}`;
  }
  const id = `g${String(generation).padStart(4, '0')}`;
  world.store.set(`${source}/${id}.refs`, { kind: 'refs', chunks: [...new Set(chunks)].sort(), valid: true });
  yield 'put refs';
  world.store.set(`${source}/${id}.age`, { kind: 'manifest', chunks, generation });
  yield 'put manifest';
  const manifests = world.list(`${source}/`).filter(([k, o]) => o.kind === 'manifest' && !k.includes('/chunks/'));
  manifests.sort(([, a], [, b]) => (b as { generation: number }).generation - (a as { generation: number }).generation);
  for (const [key] of manifests.slice(keep)) {
    world.store.delete(key);
    yield `delete ${key}`;
    world.store.delete(key.replace(/\.age$/, '.refs'));
    yield `delete refs of ${key}`;
  }
  const now = world.list(`${source}/`);
  const plan = planCollection({
    manifests: now.filter(([k, o]) => o.kind === 'manifest' && !k.includes('/chunks/')).map(([k]) => k.slice(source.length + 1, -4)),
    refs: new Map(now.filter(([, o]) => o.kind === 'refs').map(([k, o]) => [k.slice(source.length + 1, -5), (o as { valid: boolean }).valid ? (o as { chunks: string[] }).chunks : 'invalid'])),
    chunks: now.filter(([k]) => k.includes('/chunks/')).map(([k]) => k.split('/')[2]!),
  });
  for (const chunk of plan.deleteChunks) {
    world.store.delete(`${source}/chunks/${chunk}`);
    yield `gc chunk ${chunk}`;
  }
  for (const id2 of plan.deleteRefs) {
    world.store.delete(`${source}/${id2}.refs`);
    yield `gc refs ${id2}`;
  }
  yield 'done';
}

describe('rotation and collection, model-based (SPEC §13)', () => {
  it('after every step of random runs, crashes and damage, every listed manifest is complete', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const rnd = random(seed);
      const world = new World();
      const sources = ['sA', 'sB'];
      const state = new Map(sources.map((s) => [s, { generation: 0, chunks: [] as string[], fresh: 0 }]));
      const runs = new Map<string, Generator<string>>();
      for (let step = 0; step < 300; step++) {
        const source = sources[Math.floor(rnd() * sources.length)]!;
        const s = state.get(source)!;
        if (!runs.has(source)) {
          // A new backup: most chunks kept, some replaced, some added (files changed, appended).
          const chunks = s.chunks.filter(() => rnd() > 0.2);
          const fresh = 1 + Math.floor(rnd() * 4);
          for (let i = 0; i < fresh; i++) chunks.splice(Math.floor(rnd() * (chunks.length + 1)), 0, `${source}-c${s.fresh++}`);
          if (rnd() < 0.2 && chunks.length > 0) chunks.push(chunks[0]!); // a chunk twice in one backup
          s.chunks = chunks;
          s.generation += 1;
          runs.set(source, run(world, source, chunks, s.generation, 1 + Math.floor(rnd() * 3)));
        }
        const r = rnd();
        if (r < 0.05) {
          runs.delete(source); // crash: the run stops between two steps
        } else if (r < 0.07) {
          const lists = world.list(`${source}/`).filter(([, o]) => o.kind === 'refs');
          const victim = lists[Math.floor(rnd() * lists.length)];
          if (victim) (victim[1] as { valid: boolean }).valid = false; // the provider damages a list
        } else if (r < 0.09) {
          // Damage repaired (a full-key host rebuilt the list from its manifest).
          for (const [k, o] of world.list(`${source}/`)) {
            if (o.kind === 'refs' && !o.valid) {
              const manifest = world.store.get(k.replace(/\.refs$/, '.age'));
              if (manifest?.kind === 'manifest') world.store.set(k, { kind: 'refs', chunks: [...new Set(manifest.chunks)].sort(), valid: true });
            }
          }
        } else {
          const next = runs.get(source)!.next();
          if (next.done || next.value === 'done') runs.delete(source);
        }
        world.check(`seed ${seed} step ${step}`);
      }
    }
  });

  it('a run that completes leaves no garbage behind when no list is damaged', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const rnd = random(seed);
      const world = new World();
      let chunks: string[] = [];
      let fresh = 0;
      for (let generation = 1; generation <= 8; generation++) {
        chunks = chunks.filter(() => rnd() > 0.3);
        for (let i = 0; i < 3; i++) chunks.push(`c${fresh++}`);
        const steps = run(world, 'sA', chunks, generation, 2);
        // Earlier runs crash at a random step; the last one completes.
        const crashAt = generation < 8 && rnd() < 0.5 ? Math.floor(rnd() * 12) : Infinity;
        let n = 0;
        for (const _ of steps) if (++n > crashAt) break;
      }
      const manifests = world.list('sA/').filter(([k, o]) => o.kind === 'manifest' && !k.includes('/chunks/'));
      const needed = new Set(manifests.flatMap(([, o]) => (o as { chunks: string[] }).chunks));
      const stored = world.list('sA/chunks/').map(([k]) => k.split('/')[2]!);
      expect(manifests.length, `seed ${seed}`).toBeLessThanOrEqual(2);
      expect(new Set(stored), `seed ${seed}`).toEqual(needed);
      expect(world.list('sA/').filter(([, o]) => o.kind === 'refs').length, `seed ${seed}`).toBe(manifests.length);
    }
  });
});
