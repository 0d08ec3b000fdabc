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
    throw new CofferError(`VAULT_${e.status}`, `vault: ${e.message}`, e.status === 'WRONG_PASSWORD' ? EXIT.wrongKey : EXIT.failure, { cause: err });
  }
  throw err;
}

export interface Unlocked {
  readonly material: KeyMaterial;
  /** True when this login registered the anchor key (an account enrolled before anchor keys). */
  readonly registered: boolean;
}

/**
 * Asks for the password and recovers the backup key from the vault. The login also makes sure the
 * vault holds this key's anchor key (PROTOCOL.md: only a password login may set it), so an account
 * enrolled before signed anchors gets one on its first restore, verify or `vault register-key`.
 */
export async function unlockWithPassword(config: LoadedConfig, passwordFile: string | undefined, log?: Logger): Promise<KeyMaterial> {
  return (await unlockAndRegister(config, passwordFile, log, false)).material;
}

/** With `strict` false, a failed registration is a warning: it must not stop a restore. */
export async function unlockAndRegister(config: LoadedConfig, passwordFile: string | undefined, log?: Logger, strict = true): Promise<Unlocked> {
  const settings = vaultSettings(config);
  const token = await readToken(settings);
  const password = await readPassword({ file: passwordFile, what: 'vault password' });
  const { VaultClient, anchorPublicKey } = await protocol();
  const client = new VaultClient(settings.url);
  const { backupKey, sessionId } = await client.unlock(settings.account, token, password).catch(vaultFailure);
  const material = deriveKeyMaterial(backupKey);
  const mine = anchorPublicKey(material.anchorSigningKey);
  let anchorKey: string | null;
  try {
    anchorKey = (await client.status(settings.account, token).catch(vaultFailure)).anchorKey;
    if (anchorKey === mine) return { material, registered: false };
    await client.setAnchorKey(settings.account, token, sessionId, mine).catch(vaultFailure);
  } catch (err) {
    if (strict) throw err;
    log?.warn(`vault: could not register the anchor key (${(err as Error).message}); run coffer vault register-key later`);
    return { material, registered: false };
  }
  if (anchorKey) log?.warn(`vault: the account's anchor key was not this backup key's; replaced it (its stored anchors are dropped)`);
  else log?.info(`vault: registered this backup key's anchor key for ${settings.account}; backups can be anchored from now on`);
  return { material, registered: true };
}

/** Records the newest verified backup of a source in the vault, signed so the vault can check it but not forge it. */
export async function updateAnchor(config: LoadedConfig, key: WriteOnlyKey, anchor: Omit<Anchor, 'sig' | 'keyId'>): Promise<void> {
  const settings = vaultSettings(config);
  if (!key.anchorSigningKey) {
    throw new CofferError(
      'KEY_CANNOT_SIGN_ANCHORS',
      `the write-only key file ${config.key.file} predates signed anchors (no anchor-signing-key line), so the vault cannot anchor this backup; add the line with: coffer vault register-key --config ${config.configPath}`,
      EXIT.failure,
    );
  }
  const token = await readToken(settings);
  const { VaultClient, signAnchor } = await protocol();
  const signed = signAnchor(key.anchorSigningKey, settings.account, { ...anchor, keyId: key.keyId });
  await new VaultClient(settings.url).putAnchor(settings.account, token, signed).catch(vaultFailure);
}

/** The vault's anchor for a source, checked with our key; undefined when there is none. */
export async function fetchAnchor(config: LoadedConfig, key: KeyMaterial, source: string): Promise<Anchor | undefined> {
  const settings = vaultSettings(config);
  const token = await readToken(settings);
  const { VaultClient, verifyAnchor, anchorPublicKey } = await protocol();
  const status = await new VaultClient(settings.url).status(settings.account, token).catch(vaultFailure);
  const anchor = status.anchors.find((a) => a.source === source);
  // Checked with the key derived from our own backup key, never the vault's copy: the vault cannot forge.
  if (anchor && !verifyAnchor(anchorPublicKey(key.anchorSigningKey), settings.account, anchor)) {
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
