import type { Anchor } from '@coffer/vault-protocol';

export interface AccountRow {
  readonly account: string;
  /** Null once destroyed: the OPAQUE registration record. */
  readonly record: string | null;
  /** Null once destroyed: the escrowed backup key. */
  readonly escrow: string | null;
  readonly keyId: string;
  readonly maxAttempts: number;
  readonly attempts: number;
  readonly locked: boolean;
  readonly tokenHash: string;
  /** The Ed25519 anchor key (base64url); null for accounts enrolled before anchor keys. */
  readonly anchorKey: string | null;
}

/**
 * Vault persistence. Both implementations MUST give identical semantics; the store conformance
 * suite (test/store-suite.ts) runs against each. Every method is atomic.
 */
export interface VaultStore {
  /** Creates the account; MUST return false (changing nothing) if the name is taken. */
  createAccount(row: Omit<AccountRow, 'attempts' | 'locked'>): Promise<boolean>;
  getAccount(account: string): Promise<AccountRow | null>;
  /**
   * Counts one login attempt, durably, if the account is not locked and has attempts left.
   * MUST be atomic under concurrency: N concurrent calls never count more than maxAttempts.
   * Returns the count after this attempt, or null when none remain (or the account is locked).
   */
  countAttempt(account: string): Promise<{ attempts: number; maxAttempts: number } | null>;
  resetAttempts(account: string): Promise<void>;
  /** Deletes the registration record and escrow (not a flag: the bytes go), leaving a locked tombstone. */
  destroy(account: string): Promise<void>;
  /** Replaces record and escrow together (password change); MUST NOT apply to a locked account. */
  replaceCredentials(account: string, record: string, escrow: string): Promise<boolean>;
  setTokenHash(account: string, tokenHash: string): Promise<boolean>;
  /**
   * Sets the anchor key; when it differs from the stored one, MUST delete the account's anchors in
   * the same transaction (none can verify under the new key). Returns false for an unknown account.
   */
  setAnchorKey(account: string, anchorKey: string): Promise<boolean>;
  /** Stores a source's anchor; MUST refuse (return false) one older than the stored generation. */
  putAnchor(account: string, anchor: Anchor): Promise<boolean>;
  anchors(account: string): Promise<Anchor[]>;
  close(): Promise<void>;
}
