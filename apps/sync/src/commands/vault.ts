import { loadKey } from '../keys.js';
import { readPassword } from '../password.js';
import { readToken, vaultFailure, vaultSettings } from '../vault.js';
import { contextFor, type GlobalOptions } from './context.js';

/** Tries remaining and the newest anchored backup per source. */
export async function vaultStatusCommand(options: GlobalOptions & { config?: string }): Promise<number> {
  const { config } = contextFor(options.config, options);
  const settings = vaultSettings(config);
  const { VaultClient, verifyAnchor } = await import('@coffer/vault-protocol');
  const status = await new VaultClient(settings.url).status(settings.account, await readToken(settings)).catch(vaultFailure);
  const key = await loadKey(config.key.file).catch(() => null);
  const lines = [`account ${settings.account} at ${settings.url}: key ${status.keyId}, ${status.triesRemaining} of ${status.maxAttempts} password tries remaining`];
  if (status.anchors.length === 0) lines.push('no backups anchored yet');
  for (const a of status.anchors) {
    const ok = key ? (verifyAnchor(key.material.anchorMacKey, settings.account, a) ? 'verified' : 'DOES NOT VERIFY') : 'not checked (no key file)';
    lines.push(`  ${a.source}: generation ${a.generation}, backup ${a.backupId} (${ok})`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** Re-registers under a new password; the backup key, and so every backup, stays the same. */
export async function vaultChangePasswordCommand(options: GlobalOptions & { config?: string; passwordFile?: string; newPasswordFile?: string }): Promise<number> {
  const { config } = contextFor(options.config, options);
  const settings = vaultSettings(config);
  const token = await readToken(settings);
  const oldPassword = await readPassword({ file: options.passwordFile, what: 'current vault password' });
  const newPassword = await readPassword({ file: options.newPasswordFile, what: 'new vault password', confirm: true });
  const { VaultClient } = await import('@coffer/vault-protocol');
  const client = new VaultClient(settings.url);
  const status = await client.status(settings.account, token).catch(vaultFailure);
  await client.changePassword(settings.account, token, oldPassword, newPassword, status.keyId).catch(vaultFailure);
  process.stderr.write(`vault password changed for ${settings.account}; backups need nothing\n`);
  return 0;
}
