import pg from 'pg';
import type { Anchor } from '@coffer/vault-protocol';
import type { AccountRow, VaultStore } from './store.js';

/** For operators who outgrow one machine: the same semantics, the atomic counter as a row update. */
export class PostgresStore implements VaultStore {
  private readonly pool: pg.Pool;
  private ready: Promise<void>;

  constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 10 });
    this.ready = this.pool
      .query(
        `CREATE TABLE IF NOT EXISTS accounts (
          account TEXT PRIMARY KEY, record TEXT, escrow TEXT, key_id TEXT NOT NULL,
          max_attempts INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
          locked BOOLEAN NOT NULL DEFAULT FALSE, token_hash TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS anchors (
          account TEXT NOT NULL, source TEXT NOT NULL, generation BIGINT NOT NULL, body TEXT NOT NULL,
          PRIMARY KEY (account, source));
         ALTER TABLE accounts ADD COLUMN IF NOT EXISTS anchor_key TEXT;`,
      )
      .then(() => undefined);
  }

  private async q<T extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<T>> {
    await this.ready;
    return this.pool.query<T>(text, values);
  }

  async createAccount(row: Omit<AccountRow, 'attempts' | 'locked'>): Promise<boolean> {
    const r = await this.q('INSERT INTO accounts (account, record, escrow, key_id, max_attempts, token_hash, anchor_key) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account) DO NOTHING', [
      row.account,
      row.record,
      row.escrow,
      row.keyId,
      row.maxAttempts,
      row.tokenHash,
      row.anchorKey,
    ]);
    return r.rowCount === 1;
  }

  async getAccount(account: string): Promise<AccountRow | null> {
    const r = await this.q<{ account: string; record: string | null; escrow: string | null; key_id: string; max_attempts: number; attempts: number; locked: boolean; token_hash: string; anchor_key: string | null }>(
      'SELECT * FROM accounts WHERE account = $1',
      [account],
    );
    const row = r.rows[0];
    return row
      ? { account: row.account, record: row.record, escrow: row.escrow, keyId: row.key_id, maxAttempts: row.max_attempts, attempts: row.attempts, locked: row.locked, tokenHash: row.token_hash, anchorKey: row.anchor_key }
      : null;
  }

  async countAttempt(account: string): Promise<{ attempts: number; maxAttempts: number } | null> {
    // One statement: the row lock serializes concurrent guesses, so the limit cannot be overrun.
    const r = await this.q<{ attempts: number; max_attempts: number }>(
      'UPDATE accounts SET attempts = attempts + 1 WHERE account = $1 AND NOT locked AND attempts < max_attempts RETURNING attempts, max_attempts',
      [account],
    );
    const row = r.rows[0];
    return row ? { attempts: row.attempts, maxAttempts: row.max_attempts } : null;
  }

  async resetAttempts(account: string): Promise<void> {
    await this.q('UPDATE accounts SET attempts = 0 WHERE account = $1 AND NOT locked', [account]);
  }

  async destroy(account: string): Promise<void> {
    await this.q('UPDATE accounts SET record = NULL, escrow = NULL, locked = TRUE WHERE account = $1', [account]);
    // Reclaim the dead tuple that still held the old values (VACUUM cannot run in a transaction).
    await this.q('VACUUM accounts', []);
  }

  async replaceCredentials(account: string, record: string, escrow: string): Promise<boolean> {
    const r = await this.q('UPDATE accounts SET record = $2, escrow = $3, attempts = 0 WHERE account = $1 AND NOT locked', [account, record, escrow]);
    return r.rowCount === 1;
  }

  async setTokenHash(account: string, tokenHash: string): Promise<boolean> {
    return (await this.q('UPDATE accounts SET token_hash = $2 WHERE account = $1', [account, tokenHash])).rowCount === 1;
  }

  async setAnchorKey(account: string, anchorKey: string): Promise<boolean> {
    await this.ready;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const r = await client.query<{ anchor_key: string | null }>('SELECT anchor_key FROM accounts WHERE account = $1 FOR UPDATE', [account]);
      const row = r.rows[0];
      if (row && row.anchor_key !== anchorKey) {
        await client.query('UPDATE accounts SET anchor_key = $2 WHERE account = $1', [account, anchorKey]);
        await client.query('DELETE FROM anchors WHERE account = $1', [account]);
      }
      await client.query('COMMIT');
      return row !== undefined;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async putAnchor(account: string, anchor: Anchor): Promise<boolean> {
    const r = await this.q(
      `INSERT INTO anchors (account, source, generation, body) VALUES ($1, $2, $3, $4)
       ON CONFLICT (account, source) DO UPDATE SET generation = EXCLUDED.generation, body = EXCLUDED.body
       WHERE EXCLUDED.generation >= anchors.generation`,
      [account, anchor.source, anchor.generation, JSON.stringify(anchor)],
    );
    return r.rowCount === 1;
  }

  async anchors(account: string): Promise<Anchor[]> {
    const r = await this.q<{ body: string }>('SELECT body FROM anchors WHERE account = $1 ORDER BY source', [account]);
    return r.rows.map((row) => JSON.parse(row.body) as Anchor);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
