import { deriveKeyId, formatBackupKey, formatKeyFile, generateBackupKey } from '@coffer/crypto';
import { contextFor, type GlobalOptions } from './context.js';
import { writeSecretFile } from '../keys.js';

export async function initCommand(options: GlobalOptions & { config?: string }): Promise<number> {
  const { config } = contextFor(options.config, options);
  const key = generateBackupKey();
  await writeSecretFile(config.key.file, formatKeyFile(key));
  const groups = formatBackupKey(key).split(' ');
  const rows = [0, 4, 8, 12].map((i) => `    ${groups.slice(i, i + 4).join(' ')}`);
  process.stdout.write(
    [
      'Your 64-digit backup key (shown this once):',
      '',
      ...rows,
      '',
      `Key id: ${deriveKeyId(key)}`,
      `Saved to ${config.key.file} (mode 0600).`,
      '',
      'WARNING: write this key down and keep it somewhere safe, away from this computer.',
      'Without it nobody - not you, not Coffer, not your storage provider - can ever read these backups.',
      '',
    ].join('\n'),
  );
  return 0;
}
