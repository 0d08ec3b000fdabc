import { encodeIdentity, encodeRecipient, type KeyMaterial } from '@coffer/crypto';

/**
 * The age identity file for a backup key: `age -d -i` reads it as is (`#` lines are comments).
 * restore.sh reads the key id from its first line to leave other keys' backups alone.
 */
export function ageIdentityText(material: KeyMaterial): string {
  return [
    `# Coffer backup key ${material.keyId} as an age identity. Secret: anyone with it can read your backups.`,
    `# public key: ${encodeRecipient(material.recipient)}`,
    encodeIdentity(material.identity),
    '',
  ].join('\n');
}
