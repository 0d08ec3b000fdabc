import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { abytes, utf8 } from './bytes.js';
import { x25519PublicKey } from './age/x25519.js';
import { BACKUP_KEY_BYTES } from './backup-key.js';

/** Every HKDF label, exactly as listed in SPEC §2. */
export const LABELS = {
  keyId: 'coffer/v1/key-id',
  x25519Identity: 'coffer/v1/x25519-identity',
  metadataMac: 'coffer/v1/metadata-mac',
  /** Retired (HMAC anchors): never derived again, never reused. */
  anchorMac: 'coffer/v1/anchor-mac',
  anchorSigning: 'coffer/v1/anchor-signing',
  chunkId: 'coffer/v2/chunk-id',
  chunkerGear: 'coffer/v2/chunker-gear',
  sourceId: 'coffer/v2/source-id',
  refsMac: 'coffer/v2/refs-mac',
} as const;

/** The keys chunked backups need (SPEC §9–§13); a write-only key file from before them has none. */
export interface ChunkKeys {
  readonly chunkId: Uint8Array;
  readonly gear: Uint8Array;
  readonly sourceId: Uint8Array;
  readonly refsMac: Uint8Array;
}

/** What making backups needs, and nothing that can read them (SPEC §2). */
export interface WriteOnlyKey {
  readonly keyId: string;
  /** X25519 public key of the derived age identity. */
  readonly recipient: Uint8Array;
  readonly metadataMacKey: Uint8Array;
  /**
   * Ed25519 seed that signs freshness anchors for the vault. Absent in write-only key files written
   * before signed anchors: such a file still makes backups but cannot anchor them (SPEC §2).
   */
  readonly anchorSigningKey?: Uint8Array;
  /** The chunk keys (SPEC §2, §9–§13); absent in write-only key files from before chunked backups. */
  readonly chunkKeys?: ChunkKeys;
}

/** Everything derived from a backup key. */
export interface KeyMaterial extends WriteOnlyKey {
  readonly chunkKeys: ChunkKeys;
  /** X25519 secret scalar of the age identity. */
  readonly identity: Uint8Array;
  readonly anchorSigningKey: Uint8Array;
}

function derive(key: Uint8Array, label: string, length: number): Uint8Array {
  // Empty salt: the backup key is already uniform; the label alone separates the subkeys.
  return hkdf(sha256, key, new Uint8Array(0), utf8(label), length);
}

export function deriveKeyId(backupKey: Uint8Array): string {
  abytes('backup key', backupKey, BACKUP_KEY_BYTES);
  return Buffer.from(derive(backupKey, LABELS.keyId, 8)).toString('hex');
}

export function deriveKeyMaterial(backupKey: Uint8Array): KeyMaterial {
  abytes('backup key', backupKey, BACKUP_KEY_BYTES);
  const identity = derive(backupKey, LABELS.x25519Identity, 32);
  return {
    keyId: deriveKeyId(backupKey),
    identity,
    recipient: x25519PublicKey(identity),
    metadataMacKey: derive(backupKey, LABELS.metadataMac, 32),
    anchorSigningKey: derive(backupKey, LABELS.anchorSigning, 32),
    chunkKeys: {
      chunkId: derive(backupKey, LABELS.chunkId, 32),
      gear: derive(backupKey, LABELS.chunkerGear, 32),
      sourceId: derive(backupKey, LABELS.sourceId, 32),
      refsMac: derive(backupKey, LABELS.refsMac, 32),
    },
  };
}

/** Drops the identity: the result can make backups but not read them. */
export function toWriteOnly(material: WriteOnlyKey): WriteOnlyKey {
  const { keyId, recipient, metadataMacKey, anchorSigningKey, chunkKeys } = material;
  return { keyId, recipient, metadataMacKey, ...(anchorSigningKey ? { anchorSigningKey } : {}), ...(chunkKeys ? { chunkKeys } : {}) };
}
