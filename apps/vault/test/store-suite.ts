import { describe, expect, it } from 'vitest';
import type { VaultStore } from '../src/index.js';

const anchor = (generation: number, source = 'chats') => ({
  source,
  backupId: `b${generation}`,
  generation,
  sha256: 'a'.repeat(64),
  keyId: '0123456789abcdef',
  sig: 'b'.repeat(128),
});

let n = 0;
const account = () => `acct-${Date.now()}-${++n}`;
const row = (name: string, maxAttempts = 10) => ({ account: name, record: 'record', escrow: 'escrow', keyId: '0123456789abcdef', maxAttempts, tokenHash: 'h'.repeat(64), anchorKey: 'k'.repeat(43) });

/** One conformance suite for every VaultStore: the semantics the server relies on. */
export function runStoreSuite(label: string, open: () => Promise<VaultStore>): void {
  describe(`VaultStore conformance: ${label}`, () => {
    it('claims a name once', async () => {
      const s = await open();
      const a = account();
      expect(await s.createAccount(row(a))).toBe(true);
      expect(await s.createAccount({ ...row(a), escrow: 'other' })).toBe(false);
      expect((await s.getAccount(a))?.escrow).toBe('escrow');
      expect(await s.getAccount('nobody')).toBeNull();
    });

    it('counts attempts up to the limit, then refuses; a reset starts over', async () => {
      const s = await open();
      const a = account();
      await s.createAccount(row(a, 3));
      expect(await s.countAttempt(a)).toEqual({ attempts: 1, maxAttempts: 3 });
      expect(await s.countAttempt(a)).toEqual({ attempts: 2, maxAttempts: 3 });
      await s.resetAttempts(a);
      for (let i = 1; i <= 3; i++) expect((await s.countAttempt(a))?.attempts).toBe(i);
      expect(await s.countAttempt(a)).toBeNull();
      expect(await s.countAttempt('nobody')).toBeNull();
    });

    it('50 concurrent attempts against a limit of 10 count exactly 10', async () => {
      const s = await open();
      const a = account();
      await s.createAccount(row(a, 10));
      const results = await Promise.all(Array.from({ length: 50 }, () => s.countAttempt(a)));
      expect(results.filter((r) => r !== null)).toHaveLength(10);
      expect((await s.getAccount(a))?.attempts).toBe(10);
    });

    it('destroy deletes the record and escrow and locks for good', async () => {
      const s = await open();
      const a = account();
      await s.createAccount(row(a));
      await s.destroy(a);
      const r = await s.getAccount(a);
      expect(r).toMatchObject({ record: null, escrow: null, locked: true });
      expect(await s.countAttempt(a)).toBeNull();
      expect(await s.replaceCredentials(a, 'new', 'new')).toBe(false);
      expect(await s.createAccount(row(a))).toBe(false); // the name stays taken
    });

    it('replaces credentials together and resets attempts', async () => {
      const s = await open();
      const a = account();
      await s.createAccount(row(a));
      await s.countAttempt(a);
      expect(await s.replaceCredentials(a, 'record2', 'escrow2')).toBe(true);
      expect(await s.getAccount(a)).toMatchObject({ record: 'record2', escrow: 'escrow2', attempts: 0 });
    });

    it('rotates the token hash', async () => {
      const s = await open();
      const a = account();
      await s.createAccount(row(a));
      expect(await s.setTokenHash(a, 'z'.repeat(64))).toBe(true);
      expect((await s.getAccount(a))?.tokenHash).toBe('z'.repeat(64));
      expect(await s.setTokenHash('nobody', 'z'.repeat(64))).toBe(false);
    });

    it('keeps the newest anchor per source and refuses older ones', async () => {
      const s = await open();
      const a = account();
      await s.createAccount(row(a));
      expect(await s.putAnchor(a, anchor(2))).toBe(true);
      expect(await s.putAnchor(a, anchor(3))).toBe(true);
      expect(await s.putAnchor(a, anchor(1))).toBe(false);
      expect(await s.putAnchor(a, anchor(1, 'photos'))).toBe(true);
      expect((await s.anchors(a)).map((x) => [x.source, x.generation])).toEqual([
        ['chats', 3],
        ['photos', 1],
      ]);
    });

    it('a new anchor key drops the anchors (none verify under it); the same key keeps them', async () => {
      const s = await open();
      const a = account();
      await s.createAccount({ ...row(a), anchorKey: null });
      expect((await s.getAccount(a))?.anchorKey).toBeNull();
      await s.putAnchor(a, anchor(7));
      expect(await s.setAnchorKey(a, 'x'.repeat(43))).toBe(true);
      expect((await s.getAccount(a))?.anchorKey).toBe('x'.repeat(43));
      expect(await s.anchors(a)).toEqual([]);
      await s.putAnchor(a, anchor(2));
      expect(await s.setAnchorKey(a, 'x'.repeat(43))).toBe(true);
      expect((await s.anchors(a)).map((x) => x.generation)).toEqual([2]);
      expect(await s.setAnchorKey('nobody', 'x'.repeat(43))).toBe(false);
    });
  });
}
