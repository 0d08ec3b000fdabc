import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
export const newToken = () => randomBytes(32).toString('base64url');

/** Compares a presented token with a stored hash in constant time; no hash (no account) never matches. */
export function tokenMatches(token: string, tokenHash: string | undefined): boolean {
  const given = Buffer.from(hashToken(token), 'hex');
  const want = Buffer.from(tokenHash ?? '0'.repeat(64), 'hex');
  return Boolean(tokenHash) && token.length > 0 && want.length === given.length && timingSafeEqual(given, want);
}
