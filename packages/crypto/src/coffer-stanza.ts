import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { b64decode, b64encode, concatBytes, equalBytes, utf8 } from './bytes.js';
import { corrupted, notACofferBackup, unsupportedFormat, wrongKey } from './errors.js';
import type { ParsedHeader, Stanza } from './age/header.js';
import type { WriteOnlyKey } from './key-hierarchy.js';
import { decodeMetadata, type BackupMetadata } from './metadata.js';

export const COFFER_STANZA = 'coffer';
export const COFFER_FORMAT = '1';
const MAC_DOMAIN = utf8('coffer/v1 header\n');

/** SPEC §4: binds the metadata to everything before it, the X25519 stanza (and so the file key) included. */
function cofferMac(macKey: Uint8Array, prefix: Uint8Array, keyId: string, metadata: Uint8Array): Uint8Array {
  return hmac(sha256, macKey, concatBytes(MAC_DOMAIN, prefix, utf8(`-> coffer 1 ${keyId}\n`), metadata));
}

export function buildCofferStanza(key: WriteOnlyKey, prefix: Uint8Array, metadata: Uint8Array): Stanza {
  const mac = cofferMac(key.metadataMacKey, prefix, key.keyId, metadata);
  return { args: [COFFER_STANZA, COFFER_FORMAT, key.keyId, b64encode(mac)], body: metadata };
}

/**
 * Authenticates a Coffer header's metadata with the metadata MAC key alone (SPEC §4 order).
 * Returns the metadata; the X25519 stanza it vouches for is `header.stanzas[0]`.
 */
export function verifyCofferHeader(header: ParsedHeader, key: WriteOnlyKey): BackupMetadata {
  const coffer = header.stanzas.find((s) => s.args[0] === COFFER_STANZA);
  if (!coffer) throw notACofferBackup();
  const [x25519, stanza] = header.stanzas;
  if (header.stanzas.length !== 2 || stanza !== coffer || x25519?.args[0] !== 'X25519') throw corrupted();
  if (coffer.args.length < 2) throw corrupted();
  if (coffer.args[1] !== COFFER_FORMAT) throw unsupportedFormat(coffer.args[1]!);
  if (coffer.args.length !== 4) throw corrupted();
  const keyId = coffer.args[2]!;
  if (keyId !== key.keyId) {
    // Only a well-formed id is echoed back, so a hostile header cannot inject text into messages.
    if (/^[0-9a-f]{16}$/.test(keyId)) throw wrongKey(key.keyId, keyId);
    throw corrupted();
  }
  const mac = b64decode(coffer.args[3]!);
  const prefix = header.bytes.subarray(0, coffer.start);
  const expected = cofferMac(key.metadataMacKey, prefix, keyId, coffer.body);
  if (!mac || !equalBytes(mac, expected)) throw corrupted();
  const metadata = decodeMetadata(coffer.body, keyId);
  if (!metadata) throw corrupted();
  return metadata;
}
