import { readFileSync } from 'node:fs';
import { VaultClient, VaultError } from '@coffer/vault-protocol';
import { hashToken } from '../src/index.js';
import { describe, expect, it } from 'vitest';
import { startVault } from './harness.js';

// The fixed vector of packages/vault-protocol/test/vectors (README there): a record made on
// 2026-12-04 with the library's default key stretching must keep unlocking through the shipped client.
const vector = JSON.parse(readFileSync(new URL('../../../packages/vault-protocol/test/vectors/opaque-login.json', import.meta.url), 'utf8')) as Record<string, string>;

describe('an account enrolled with the 2026-12-04 vector', () => {
  it('VaultClient.unlock recovers its backup key with the password, and refuses a wrong one', async () => {
    const vault = await startVault(undefined, undefined, vector.serverSetup);
    try {
      const token = 'vector-token';
      await vault.store.createAccount({ account: vector.account!, record: vector.registrationRecord!, escrow: vector.escrow!, keyId: vector.keyId!, maxAttempts: 5, tokenHash: hashToken(token), anchorKey: null });
      const client = new VaultClient(vault.url);
      const { backupKey } = await client.unlock(vector.account!, token, vector.password!);
      expect(Buffer.from(backupKey).toString('hex')).toBe(vector.backupKey);
      const wrong = await client.unlock(vector.account!, token, 'wrong password').catch((e: VaultError) => e);
      expect(wrong).toMatchObject({ status: 'WRONG_PASSWORD', triesRemaining: 4 });
    } finally {
      await vault.close();
    }
  });
});
