import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Anchor } from '@coffer/vault-protocol';
import type { AccountRow, VaultStore } from './store.js';

interface Row {
  account: string;
  record: string | null;
  escrow: string | null;
  key_id: string;
  max_attempts: number;
  attempts: number;
  locked: number;
  token_hash: string;
  anchor_key: string | null;
}

const toAccount = (r: Row): AccountRow => ({
  account: r.account,
  record: r.record,
  escrow: r.escrow,
  keyId: r.key_id,
  maxAttempts: r.max_attempts,
  attempts: r.attempts,
  locked: r.locked === 1,
  tokenHash: r.token_hash,
  anchorKey: r.anchor_key,
});

/**
 * The database holds escrows, records and token hashes: it and its WAL/shared-memory files are the
 * owner's only (0600), like the secrets file. SQLite gives -wal and -shm the main file's mode; files
 * left more open by an older version are tightened at start.
 */
function ownerOnly(path: string): void {
  if (path === ':memory:' || path === '') return;
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
}

/** The embedded default. One writer at a time (SQLite's lock) makes the attempt counter atomic. */
export class SqliteStore implements VaultStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    ownerOnly(path);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL'); // an attempt is counted durably before we answer
    this.db.pragma('secure_delete = ON'); // destroyed keys are overwritten in the file, not just unlinked
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS accounts (
        account TEXT PRIMARY KEY, record TEXT, escrow TEXT, key_id TEXT NOT NULL,
        max_attempts INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        locked INTEGER NOT NULL DEFAULT 0, token_hash TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS anchors (
        account TEXT NOT NULL, source TEXT NOT NULL, generation INTEGER NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (account, source));`);
    // Databases made before anchor keys: add the column (NULL: the owner registers it on next login).
    const columns = this.db.prepare('PRAGMA table_info(accounts)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'anchor_key')) this.db.exec('ALTER TABLE accounts ADD COLUMN anchor_key TEXT');
  }

  async createAccount(row: Omit<AccountRow, 'attempts' | 'locked'>): Promise<boolean> {
    const r = this.db
      .prepare('INSERT INTO accounts (account, record, escrow, key_id, max_attempts, token_hash, anchor_key) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account) DO NOTHING')
      .run(row.account, row.record, row.escrow, row.keyId, row.maxAttempts, row.tokenHash, row.anchorKey);
    return r.changes === 1;
  }

  async getAccount(account: string): Promise<AccountRow | null> {
    const r = this.db.prepare('SELECT * FROM accounts WHERE account = ?').get(account) as Row | undefined;
    return r ? toAccount(r) : null;
  }

  async countAttempt(account: string): Promise<{ attempts: number; maxAttempts: number } | null> {
    const r = this.db
      .prepare('UPDATE accounts SET attempts = attempts + 1 WHERE account = ? AND locked = 0 AND attempts < max_attempts RETURNING attempts, max_attempts')
      .get(account) as { attempts: number; max_attempts: number } | undefined;
    return r ? { attempts: r.attempts, maxAttempts: r.max_attempts } : null;
  }

  async resetAttempts(account: string): Promise<void> {
    this.db.prepare('UPDATE accounts SET attempts = 0 WHERE account = ? AND locked = 0').run(account);
  }

  async destroy(account: string): Promise<void> {
    this.db.prepare("UPDATE accounts SET record = NULL, escrow = NULL, locked = 1 WHERE account = ?").run(account);
    // Copy the overwritten pages into the main file and empty the WAL: no old copy stays behind.
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async replaceCredentials(account: string, record: string, escrow: string): Promise<boolean> {
    const r = this.db.prepare('UPDATE accounts SET record = ?, escrow = ?, attempts = 0 WHERE account = ? AND locked = 0').run(record, escrow, account);
    if (r.changes === 1) this.db.pragma('wal_checkpoint(TRUNCATE)');
    return r.changes === 1;
  }

  async setTokenHash(account: string, tokenHash: string): Promise<boolean> {
    return this.db.prepare('UPDATE accounts SET token_hash = ? WHERE account = ?').run(tokenHash, account).changes === 1;
  }

  async setAnchorKey(account: string, anchorKey: string): Promise<boolean> {
    return this.db.transaction(() => {
      const r = this.db.prepare('SELECT anchor_key FROM accounts WHERE account = ?').get(account) as { anchor_key: string | null } | undefined;
      if (!r) return false;
      if (r.anchor_key !== anchorKey) {
        this.db.prepare('UPDATE accounts SET anchor_key = ? WHERE account = ?').run(anchorKey, account);
        this.db.prepare('DELETE FROM anchors WHERE account = ?').run(account);
      }
      return true;
    })();
  }

  async putAnchor(account: string, anchor: Anchor): Promise<boolean> {
    const r = this.db
      .prepare(
        `INSERT INTO anchors (account, source, generation, body) VALUES (?, ?, ?, ?)
         ON CONFLICT (account, source) DO UPDATE SET generation = excluded.generation, body = excluded.body
         WHERE excluded.generation >= anchors.generation`,
      )
      .run(account, anchor.source, anchor.generation, JSON.stringify(anchor));
    return r.changes === 1;
  }

  async anchors(account: string): Promise<Anchor[]> {
    const rows = this.db.prepare('SELECT body FROM anchors WHERE account = ? ORDER BY source').all(account) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as Anchor);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
