import { existsSync } from 'node:fs';
import { deriveKeyId, deriveKeyMaterial, formatBackupKey, formatKeyFile, formatWriteOnlyKeyFile, generateBackupKey, toWriteOnly } from '@coffer/crypto';
import { CofferError, EXIT } from '../errors.js';
import { writeSecretFile } from '../keys.js';
import { readPassword } from '../password.js';
import { vaultFailure, vaultSettings } from '../vault.js';
import { contextFor, type GlobalOptions } from './context.js';

export async function initCommand(options: GlobalOptions & { config?: string; vault?: boolean; passwordFile?: string }): Promise<number> {
  const { config } = contextFor(options.config, options);
  const key = generateBackupKey();
  if (options.vault) {
    // Vault mode: the backup key lives in the vault behind the password (and on paper); this
    // machine keeps only the write-only key, so making backups needs no password.
    const settings = vaultSettings(config);
    for (const file of [config.key.file, settings.tokenFile]) {
      if (existsSync(file)) throw new CofferError('KEY_EXISTS', `${file} already exists; refusing to overwrite it`, EXIT.failure);
    }
    const password = await readPassword({ file: options.passwordFile, what: 'new vault password', confirm: true });
    const { VaultClient } = await import('@coffer/vault-protocol');
    const token = await new VaultClient(settings.url).enroll(settings.account, password, key, deriveKeyId(key), settings.maxAttempts).catch(vaultFailure);
    await writeSecretFile(settings.tokenFile, `${token}\n`);
    await writeSecretFile(config.key.file, formatWriteOnlyKeyFile(toWriteOnly(deriveKeyMaterial(key))));
    process.stderr.write(`enrolled account ${settings.account} in the vault at ${settings.url} (${settings.maxAttempts} wrong passwords allowed); token saved to ${settings.tokenFile}\n`);
  } else {
    await writeSecretFile(config.key.file, formatKeyFile(key));
  }
  const groups = formatBackupKey(key).split(' ');
  const rows = [0, 4, 8, 12].map((i) => `    ${groups.slice(i, i + 4).join(' ')}`);
  process.stdout.write(
    [
      'Your 64-digit backup key (shown this once):',
      '',
      ...rows,
      '',
      `Key id: ${deriveKeyId(key)}`,
      options.vault ? `This machine keeps only a write-only key (${config.key.file}); your password unlocks the backup key from the vault.` : `Saved to ${config.key.file} (mode 0600).`,
      '',
      'WARNING: write this key down and keep it somewhere safe, away from this computer.',
      'Without it nobody - not you, not Coffer, not your storage provider - can ever read these backups.',
      '',
    ].join('\n'),
  );
  return 0;
}
