import { describe, expect, it } from 'vitest';
import { checkVaultUrl, VaultClient } from './client.js';

describe('vault URL', () => {
  it('refuses a user name or password without repeating either', () => {
    for (const url of ['https://alice:s3cret-pw@vault.example', 'https://alice@vault.example/', 'http://:s3cret-pw@127.0.0.1:8787']) {
      const err = (() => {
        try {
          new VaultClient(url);
          return null;
        } catch (e) {
          return e as Error & { status: string };
        }
      })();
      expect(err?.status).toBe('BAD_URL');
      expect(err?.message).toBe('the vault URL must not contain a user name or password (the access token belongs in tokenFile)');
      expect(err?.message).not.toMatch(/alice|s3cret/);
    }
    expect(checkVaultUrl('https://vault.example/')).toBe('https://vault.example');
    expect(() => checkVaultUrl('not a url')).toThrow('the vault URL is not a valid URL');
  });
});
