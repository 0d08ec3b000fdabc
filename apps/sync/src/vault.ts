import { readFile } from 'node:fs/promises';
import { deriveKeyMaterial, type KeyMaterial, type WriteOnlyKey } from '@coffer/crypto';
import type { Anchor, VaultError } from '@coffer/vault-protocol';

/** The vault protocol (OPAQUE in WASM) loads only in vault mode. */
const protocol = () => import('@coffer/vault-protocol');
import type { BackupRecord } from './catalog.js';
import type { LoadedConfig } from './config/load.js';
import { CofferError, EXIT, usageError } from './errors.js';
import type { Logger } from './log.js';
import { readPassword } from './password.js';

export type VaultSettings = NonNullable<LoadedConfig['key']['vault']>;

export function vaultSettings(config: LoadedConfig): VaultSettings {
  if (!config.key.vault) throw usageError(`${config.configPath} has no key.vault section (url, account, tokenFile)`);
  return config.key.vault;
}

export async function readToken(settings: VaultSettings): Promise<string> {
  try {
    return (await readFile(settings.tokenFile, 'utf8')).trim();
  } catch (err) {
    throw new CofferError('VAULT', `cannot read the vault token file ${settings.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'} (ask the vault operator for a new token: coffer-vault token issue ${settings.account})`, EXIT.failure);
  }
}

/** Turns vault answers into one-line errors for the person at the terminal. */
export function vaultFailure(err: unknown): never {
  // By name, not instanceof: the protocol module loads lazily.
  if ((err as Error)?.name === 'VaultError') {
    const e = err as VaultError;
    throw new CofferError(`VAULT_${e.status}`, `vault: ${e.message}`, EXIT.failure, { cause: err });
  }
  throw err;
}

/** Asks for the password and recovers the backup key from the vault. */
export async function unlockWithPassword(config: LoadedConfig, passwordFile?: string): Promise<KeyMaterial> {
  const settings = vaultSettings(config);
  const token = await readToken(settings);
  const password = await readPassword({ file: passwordFile, what: 'vault password' });
  const { VaultClient } = await protocol();
  const { backupKey } = await new VaultClient(settings.url).unlock(settings.account, token, password).catch(vaultFailure);
  return deriveKeyMaterial(backupKey);
}

/** Records the newest verified backup of a source in the vault, MACed so the vault cannot forge it. */
export async function updateAnchor(config: LoadedConfig, key: WriteOnlyKey, anchor: Omit<Anchor, 'mac' | 'keyId'>): Promise<void> {
  const settings = vaultSettings(config);
  const token = await readToken(settings);
  const { VaultClient, signAnchor } = await protocol();
  const signed = signAnchor(key.anchorMacKey, settings.account, { ...anchor, keyId: key.keyId });
  await new VaultClient(settings.url).putAnchor(settings.account, token, signed).catch(vaultFailure);
}

/** The vault's anchor for a source, checked with our key; undefined when there is none. */
export async function fetchAnchor(config: LoadedConfig, key: WriteOnlyKey, source: string): Promise<Anchor | undefined> {
  const settings = vaultSettings(config);
  const token = await readToken(settings);
  const { VaultClient, verifyAnchor } = await protocol();
  const status = await new VaultClient(settings.url).status(settings.account, token).catch(vaultFailure);
  const anchor = status.anchors.find((a) => a.source === source);
  if (anchor && !verifyAnchor(key.anchorMacKey, settings.account, anchor)) {
    throw new CofferError('ANCHOR_FORGED', `vault: the freshness anchor for ${source} does not verify with this key: it was altered, or belongs to another account or key`, EXIT.failure);
  }
  return anchor;
}

/**
 * Rollback protection: `latest` must not be older than the anchor, and a backup with the
 * anchored generation must have the anchored ciphertext hash (checked after download).
 */
export function checkFreshness(candidates: readonly BackupRecord[], anchor: Anchor | undefined, source: string, log: Logger): BackupRecord[] {
  if (!anchor) {
    log.warn(`vault: no freshness anchor for ${source}: cannot rule out that storage offers an old backup`);
    return [...candidates];
  }
  const fresh = candidates.filter((b) => b.generation >= anchor.generation);
  if (fresh.length === 0) {
    const newest = Math.max(0, ...candidates.map((b) => b.generation));
    throw new CofferError(
      'ROLLBACK',
      `rollback refused: storage offers backups of ${source} up to generation ${newest}, but the vault anchors generation ${anchor.generation} (backup ${anchor.backupId}); the newest backup is missing or withheld`,
      EXIT.failure,
    );
  }
  return fresh;
}

export function checkSubstitution(record: BackupRecord, sha256: string, anchor: Anchor | undefined): void {
  if (anchor && record.generation === anchor.generation && (record.backupId !== anchor.backupId || sha256 !== anchor.sha256)) {
    throw new CofferError('SUBSTITUTED', `backup ${record.backupId} (generation ${record.generation}) differs from the one the vault anchors (${anchor.backupId}): substitution refused`, EXIT.failure);
  }
}
