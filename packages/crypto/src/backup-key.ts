import { randomBytes } from 'node:crypto';
import { abytes } from './bytes.js';
import { invalidKey } from './errors.js';

/** SPEC §1: the backup key is 32 random bytes. */
export const BACKUP_KEY_BYTES = 32;

export function generateBackupKey(): Uint8Array {
  return new Uint8Array(randomBytes(BACKUP_KEY_BYTES));
}

/** 64 lowercase hex digits in 16 groups of 4, separated by spaces. */
export function formatBackupKey(key: Uint8Array): string {
  abytes('backup key', key, BACKUP_KEY_BYTES);
  const hex = Buffer.from(key).toString('hex');
  return hex.match(/.{4}/g)!.join(' ');
}

const IGNORED = new Set([' ', '\t', '-', '\r', '\n']);
const LOOKALIKES: Record<string, string> = { O: '0', o: '0', I: '1', l: '1', i: '1' };

/**
 * Parses a backup key as a person typed it: any case; spaces, tabs, dashes and line breaks ignored.
 * Every other character is an error naming it and its position (SPEC §1).
 */
export function parseBackupKey(text: string): Uint8Array {
  if (typeof text !== 'string') throw invalidKey('backup key must be text');
  let digits = '';
  let position = 0;
  for (const ch of text) {
    position += 1;
    if (IGNORED.has(ch)) continue;
    if (/^[0-9a-fA-F]$/.test(ch)) {
      digits += ch.toLowerCase();
      continue;
    }
    const shown = /^[\x21-\x7e]$/.test(ch) ? `'${ch}'` : `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    const hint = LOOKALIKES[ch] ? ` (did you mean '${LOOKALIKES[ch]}'?)` : '';
    throw invalidKey(
      `backup key has an invalid character ${shown} at position ${position}${hint}; only 0-9 and a-f are allowed`,
    );
  }
  if (digits.length !== BACKUP_KEY_BYTES * 2) {
    throw invalidKey(`backup key must have 64 hexadecimal digits, got ${digits.length}`);
  }
  return new Uint8Array(Buffer.from(digits, 'hex'));
}
