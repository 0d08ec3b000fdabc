import { fstatSync } from 'node:fs';
import { encodeIdentity, encodeRecipient, formatWriteOnlyKeyFile, toWriteOnly } from '@coffer/crypto';
import { loadConfig } from '../config/load.js';
import { usageError } from '../errors.js';
import { loadReadingKey, writeSecretFile } from '../keys.js';

function keyPath(options: { keyFile?: string; config?: string }): string {
  if (options.keyFile) return options.keyFile;
  if (options.config) return loadConfig(options.config).key.file;
  throw usageError('pass --key-file FILE (or --config FILE to use its key file)');
}

/**
 * Prints the age identity, for `age -d -i identity.txt BACKUP | tar -x` without Coffer, or with
 * `--out FILE` writes it to a new file with mode 0600 (`--force`: replacing FILE).
 */
export async function exportAgeCommand(options: { keyFile?: string; config?: string; out?: string; force?: boolean }): Promise<number> {
  const material = await loadReadingKey(keyPath(options));
  const text = [
    `# Coffer backup key ${material.keyId} as an age identity. Secret: anyone with it can read your backups.`,
    `# public key: ${encodeRecipient(material.recipient)}`,
    encodeIdentity(material.identity),
    '',
  ].join('\n');
  if (options.out) {
    await writeSecretFile(options.out, text, { replace: Boolean(options.force), force: '--force' });
    process.stderr.write(`wrote the age identity of key ${material.keyId} to ${options.out} (mode 0600): anyone with it can read your backups\n`);
    return 0;
  }
  // `> identity.txt` makes a file with the umask's mode, usually readable by everyone.
  const out = fstatSync(1);
  if (out.isFile() && out.mode & 0o077) {
    process.stderr.write(`warning: the identity goes to a file other users can open (mode ${(out.mode & 0o777).toString(8).padStart(4, '0')}); use --out FILE, which writes it with mode 0600\n`);
  }
  process.stdout.write(text);
  return 0;
}

export async function writeOnlyCommand(options: { keyFile?: string; config?: string; out?: string }): Promise<number> {
  if (!options.out) throw usageError('--out FILE is required');
  const material = await loadReadingKey(keyPath(options));
  await writeSecretFile(options.out, formatWriteOnlyKeyFile(toWriteOnly(material)));
  process.stderr.write(`wrote write-only key ${material.keyId} to ${options.out} (mode 0600): it can make backups but not read them\n`);
  return 0;
}
