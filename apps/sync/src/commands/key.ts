import { encodeIdentity, encodeRecipient, formatWriteOnlyKeyFile, toWriteOnly } from '@coffer/crypto';
import { loadConfig } from '../config/load.js';
import { usageError } from '../errors.js';
import { loadReadingKey, writeSecretFile } from '../keys.js';

function keyPath(options: { keyFile?: string; config?: string }): string {
  if (options.keyFile) return options.keyFile;
  if (options.config) return loadConfig(options.config).key.file;
  throw usageError('pass --key-file FILE (or --config FILE to use its key file)');
}

/** Prints the age identity, for `age -d -i identity.txt BACKUP | tar -x` without Coffer. */
export async function exportAgeCommand(options: { keyFile?: string; config?: string }): Promise<number> {
  const material = await loadReadingKey(keyPath(options));
  process.stdout.write(
    [
      `# Coffer backup key ${material.keyId} as an age identity. Secret: anyone with it can read your backups.`,
      `# public key: ${encodeRecipient(material.recipient)}`,
      encodeIdentity(material.identity),
      '',
    ].join('\n'),
  );
  return 0;
}

export async function writeOnlyCommand(options: { keyFile?: string; config?: string; out?: string }): Promise<number> {
  if (!options.out) throw usageError('--out FILE is required');
  const material = await loadReadingKey(keyPath(options));
  await writeSecretFile(options.out, formatWriteOnlyKeyFile(toWriteOnly(material)));
  process.stderr.write(`wrote write-only key ${material.keyId} to ${options.out} (mode 0600): it can make backups but not read them\n`);
  return 0;
}
