import { chmodSync, existsSync, mkdtempSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type VaultStore } from '../src/index.js';
import { startPostgres, type Postgres } from '../src/testing/postgres.js';
import { runStoreSuite } from './store-suite.js';

const stores: VaultStore[] = [];
let pg: Postgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  for (const s of stores) await s.close();
  pg?.stop();
});

const keep = (s: VaultStore) => (stores.push(s), s);
runStoreSuite('sqlite', async () => keep(await openStore(`sqlite:${join(mkdtempSync(join(tmpdir(), 'coffer-vault-')), 'vault.db')}`)));
runStoreSuite('postgres', async () => keep(await openStore(pg.url)));

describe('SQLite files', () => {
  it('the database and its WAL and shared-memory files are created 0600, whatever the umask', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-vault-mode-'));
    const old = process.umask(0o022);
    try {
      const s = keep(await openStore(`sqlite:${join(dir, 'vault.db')}`));
      await s.createAccount({ account: 'a', record: 'r', escrow: 'e', keyId: '0123456789abcdef', maxAttempts: 3, tokenHash: 'h'.repeat(64), anchorKey: null });
      for (const f of ['vault.db', 'vault.db-wal', 'vault.db-shm']) {
        expect(existsSync(join(dir, f)), f).toBe(true);
        expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
      }
    } finally {
      process.umask(old);
    }
  });

  it('a database made 0644 by an older version is tightened, and gains the anchor_key column', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-vault-mode-'));
    const path = join(dir, 'vault.db');
    const db = new Database(path);
    db.exec(`CREATE TABLE accounts (account TEXT PRIMARY KEY, record TEXT, escrow TEXT, key_id TEXT NOT NULL,
      max_attempts INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, locked INTEGER NOT NULL DEFAULT 0, token_hash TEXT NOT NULL);
      INSERT INTO accounts (account, record, escrow, key_id, max_attempts, token_hash) VALUES ('old', 'r', 'e', '0123456789abcdef', 5, '${'h'.repeat(64)}');`);
    db.close();
    chmodSync(path, 0o644);
    const s = keep(await openStore(`sqlite:${path}`));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await s.getAccount('old')).toMatchObject({ account: 'old', anchorKey: null, maxAttempts: 5 });
  });
});
