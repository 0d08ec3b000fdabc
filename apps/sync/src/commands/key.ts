import { fstatSync } from 'node:fs';
import { formatWriteOnlyKeyFile, toWriteOnly } from '@coffer/crypto';
import { loadConfig } from '../config/load.js';
import { ageIdentityText } from '../emergency-kit/identity-text.js';
import { CofferError, EXIT, usageError } from '../errors.js';
import { loadKey, loadReadingKey, writeSecretFile } from '../keys.js';

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
  const text = ageIdentityText(material);
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

/** Writes the emergency kit (identity.txt, restore.sh, README.txt): restores with no Coffer and no node. */
export async function emergencyKitCommand(options: { keyFile?: string; config?: string; out?: string; force?: boolean }): Promise<number> {
  if (!options.out) throw usageError('--out DIR is required');
  const path = keyPath(options);
  const key = await loadKey(path);
  if (key.kind !== 'full') {
    // An age identity cannot be derived without the backup key (SPEC §2): say so before writing anything.
    throw new CofferError(
      'WRITE_ONLY_KEY',
      `key file ${path} is write-only: it cannot make an emergency kit, which needs the age identity; pass --key-file with the 64-digit backup key`,
      EXIT.usage,
    );
  }
  const { writeEmergencyKit } = await import('../emergency-kit/write-kit.js');
  // With a config, the kit's README names this setup's sources and how to copy each destination.
  const config = options.config ? loadConfig(options.config) : undefined;
  const setup = config && { configPath: config.configPath, sources: config.sources.map((s) => s.name), destinations: config.destinations };
  await writeEmergencyKit(options.out, key.material, { force: options.force, setup });
  process.stderr.write(
    `wrote the emergency kit for key ${key.material.keyId} to ${options.out}: identity.txt (SECRET, mode 0600), restore.sh, README.txt. ` +
      'Keep it offline, beside the key; see README.txt\n',
  );
  return 0;
}
