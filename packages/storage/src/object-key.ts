import { StorageError } from './errors.js';

export const MAX_KEY_BYTES = 1024;

/**
 * Validates an object key at the boundary: `/`-separated segments, none empty, `.` or `..`;
 * not absolute; no backslash or control characters; at most 1024 UTF-8 bytes.
 */
export function validateKey(key: unknown, backend: string): string {
  const fail = (why: string): never => {
    throw new StorageError('INVALID_KEY', `invalid object key ${JSON.stringify(key)}: ${why}`, { backend });
  };
  if (typeof key !== 'string' || key === '') return fail('must be a non-empty string');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) fail(`longer than ${MAX_KEY_BYTES} bytes`);
  if (/[\p{Cc}\\]/u.test(key)) fail('contains a control character or backslash');
  if (key.startsWith('/')) fail('must not be absolute');
  for (const segment of key.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') fail('has an empty, "." or ".." segment');
  }
  return key;
}

/** Prefixes may be empty or end in the middle of a segment, but follow the same character rules. */
export function validatePrefix(prefix: unknown, backend: string): string {
  if (prefix === '') return '';
  if (typeof prefix !== 'string') throw new StorageError('INVALID_KEY', 'prefix must be a string', { backend });
  validateKey(prefix.endsWith('/') ? `${prefix}x` : prefix, backend);
  return prefix;
}
