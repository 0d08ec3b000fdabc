import { bech32 } from '@scure/base';
import { abytes } from '../bytes.js';
import { invalidKey } from '../errors.js';

// Bech32 encodings defined by the age spec: recipients `age1…`, identities `AGE-SECRET-KEY-1…`.
const RECIPIENT_HRP = 'age';
const IDENTITY_HRP = 'age-secret-key-';

export function encodeRecipient(publicKey: Uint8Array): string {
  abytes('recipient', publicKey, 32);
  return bech32.encode(RECIPIENT_HRP, bech32.toWords(publicKey), false);
}

export function encodeIdentity(secret: Uint8Array): string {
  abytes('identity', secret, 32);
  return bech32.encode(IDENTITY_HRP, bech32.toWords(secret), false).toUpperCase();
}

function decode(text: string, hrp: string, what: string): Uint8Array {
  try {
    const { prefix, words } = bech32.decode(text as `${string}1${string}`, false);
    if (prefix !== hrp) throw new Error('prefix');
    const bytes = bech32.fromWords(words);
    if (bytes.length !== 32) throw new Error('length');
    return bytes;
  } catch {
    throw invalidKey(`not a valid age ${what}`);
  }
}

export function decodeRecipient(text: string): Uint8Array {
  return decode(text.trim(), RECIPIENT_HRP, 'recipient');
}

export function decodeIdentity(text: string): Uint8Array {
  const t = text.trim();
  // age identities are upper case; bech32 forbids mixed case.
  return decode(t.toLowerCase(), IDENTITY_HRP, 'identity');
}
