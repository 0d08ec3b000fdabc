import { b64decode, b64encode } from './bytes.js';
import { formatBackupKey, parseBackupKey } from './backup-key.js';
import { invalidKey } from './errors.js';
import { decodeRecipient, encodeRecipient } from './age/identity-encoding.js';
import { deriveKeyMaterial, type ChunkKeys, type KeyMaterial, type WriteOnlyKey } from './key-hierarchy.js';

// SPEC §1–2: the two key file formats. Both are text so a person can print and read them.
const FULL_TAG = 'coffer-backup-key-v1';
const WRITE_ONLY_TAG = 'coffer-write-only-key-v1';

export function formatKeyFile(backupKey: Uint8Array): string {
  const m = deriveKeyMaterial(backupKey);
  return [
    '# Coffer backup key. Anyone with this file can read every backup made with it.',
    `# key id: ${m.keyId}`,
    `${FULL_TAG}: ${formatBackupKey(backupKey)}`,
    '',
  ].join('\n');
}

export function formatWriteOnlyKeyFile(key: WriteOnlyKey): string {
  return [
    '# Coffer write-only key: makes backups, cannot read them.',
    WRITE_ONLY_TAG,
    `key-id: ${key.keyId}`,
    `recipient: ${encodeRecipient(key.recipient)}`,
    `metadata-mac-key: ${b64encode(key.metadataMacKey)}`,
    ...(key.anchorSigningKey ? [`anchor-signing-key: ${b64encode(key.anchorSigningKey)}`] : []),
    ...(key.chunkKeys
      ? [
          `chunk-id-key: ${b64encode(key.chunkKeys.chunkId)}`,
          `chunker-gear-key: ${b64encode(key.chunkKeys.gear)}`,
          `source-id-key: ${b64encode(key.chunkKeys.sourceId)}`,
          `refs-mac-key: ${b64encode(key.chunkKeys.refsMac)}`,
        ]
      : []),
    '',
  ].join('\n');
}

export type LoadedKey =
  | { readonly kind: 'full'; readonly backupKey: Uint8Array; readonly material: KeyMaterial }
  | { readonly kind: 'write-only'; readonly material: WriteOnlyKey };

function meaningfulLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

const CHUNK_KEY_FIELDS = { chunkId: 'chunk-id-key', gear: 'chunker-gear-key', sourceId: 'source-id-key', refsMac: 'refs-mac-key' } as const;

/** SPEC §2: all four chunk keys, or none (a file written before chunked backups). */
function parseChunkKeys(fields: ReadonlyMap<string, string>): ChunkKeys | undefined {
  const names = Object.values(CHUNK_KEY_FIELDS);
  if (names.every((name) => !fields.has(name))) return undefined;
  const keys: Record<string, Uint8Array> = {};
  for (const [prop, name] of Object.entries(CHUNK_KEY_FIELDS)) {
    const value = b64decode(fields.get(name) ?? '');
    if (value?.length !== 32) throw invalidKey(`write-only key file: ${name} is missing or malformed`);
    keys[prop] = value;
  }
  return keys as unknown as ChunkKeys;
}

/** Parses either key file format. Errors never echo key material. */
export function parseKeyFile(text: string): LoadedKey {
  const lines = meaningfulLines(text);
  const first = lines[0] ?? '';
  if (first.startsWith(`${FULL_TAG}:`)) {
    const backupKey = parseBackupKey(first.slice(FULL_TAG.length + 1));
    return { kind: 'full', backupKey, material: deriveKeyMaterial(backupKey) };
  }
  if (first === WRITE_ONLY_TAG) {
    const fields = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) fields.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
    const keyId = fields.get('key-id') ?? '';
    if (!/^[0-9a-f]{16}$/.test(keyId)) throw invalidKey('write-only key file: key-id is missing or malformed');
    const recipient = decodeRecipient(fields.get('recipient') ?? '');
    const metadataMacKey = b64decode(fields.get('metadata-mac-key') ?? '');
    if (metadataMacKey?.length !== 32) throw invalidKey('write-only key file: metadata-mac-key is missing or malformed');
    // SPEC §2: an older file has an (ignored) anchor-mac-key line and no anchor-signing-key; it still
    // makes backups, and the vault-mode anchor update says how to add the line. Likewise a file
    // without chunk keys still makes single-file backups.
    let anchorSigningKey: Uint8Array | undefined;
    if (fields.has('anchor-signing-key')) {
      anchorSigningKey = b64decode(fields.get('anchor-signing-key')!) ?? undefined;
      if (anchorSigningKey?.length !== 32) throw invalidKey('write-only key file: anchor-signing-key is malformed');
    }
    const chunkKeys = parseChunkKeys(fields);
    return { kind: 'write-only', material: { keyId, recipient, metadataMacKey, ...(anchorSigningKey ? { anchorSigningKey } : {}), ...(chunkKeys ? { chunkKeys } : {}) } };
  }
  // A bare 64-digit key (as printed by `coffer init`) is accepted too.
  if (lines.length === 1) {
    const backupKey = parseBackupKey(first);
    return { kind: 'full', backupKey, material: deriveKeyMaterial(backupKey) };
  }
  throw invalidKey('not a Coffer key file (expected a "coffer-backup-key-v1:" or "coffer-write-only-key-v1" line)');
}
