import { rename, unlink } from 'node:fs/promises';
import { formatWriteOnlyKeyFile, toWriteOnly } from '@coffer/crypto';
import { CofferError, EXIT } from '../errors.js';
import { loadKey, writeSecretFile } from '../keys.js';
import { readPassword } from '../password.js';
import { readToken, unlockAndRegister, vaultFailure, vaultSettings } from '../vault.js';
import { contextFor, type GlobalOptions } from './context.js';

/** Tries remaining and the newest anchored backup per source. */
export async function vaultStatusCommand(options: GlobalOptions & { config?: string }): Promise<number> {
  const { config } = contextFor(options.config, options);
  const settings = vaultSettings(config);
  const { VaultClient, verifyAnchor, anchorPublicKey } = await import('@coffer/vault-protocol');
  const status = await new VaultClient(settings.url).status(settings.account, await readToken(settings)).catch(vaultFailure);
  const seed = (await loadKey(config.key.file).catch(() => null))?.material.anchorSigningKey;
  const lines = [`account ${settings.account} at ${settings.url}: key ${status.keyId}, ${status.triesRemaining} of ${status.maxAttempts} password tries remaining`];
  if (!status.anchorKey) lines.push('no anchor key registered: backups cannot be anchored until you run `coffer vault register-key`');
  if (status.anchors.length === 0) lines.push('no backups anchored yet');
  for (const a of status.anchors) {
    const ok = seed ? (verifyAnchor(anchorPublicKey(seed), settings.account, a) ? 'verified' : 'DOES NOT VERIFY') : 'not checked (no key file that can sign anchors)';
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

/**
 * For accounts and write-only key files from before signed anchors: logs in with the password,
 * registers this backup key's anchor key with the vault, and adds the anchor-signing line to a
 * write-only key file that lacks it (replaced atomically, still 0600).
 */
export async function vaultRegisterKeyCommand(options: GlobalOptions & { config?: string; passwordFile?: string }): Promise<number> {
  const { config, log } = contextFor(options.config, options);
  const { material, registered } = await unlockAndRegister(config, options.passwordFile, log);
  if (!registered) log.info('vault: the anchor key was already registered');
  const file = await loadKey(config.key.file).catch(() => null);
  if (file?.kind === 'write-only' && !file.material.anchorSigningKey) {
    if (file.material.keyId !== material.keyId) {
      throw new CofferError('WRONG_KEY', `the write-only key file ${config.key.file} is for key ${file.material.keyId}, but the vault holds key ${material.keyId}; left it unchanged`, EXIT.failure);
    }
    const temp = `${config.key.file}.coffer-new`;
    await unlink(temp).catch(() => undefined);
    await writeSecretFile(temp, formatWriteOnlyKeyFile(toWriteOnly(material)));
    await rename(temp, config.key.file);
    log.info(`added the anchor-signing key to ${config.key.file}`);
  }
  return 0;
}
