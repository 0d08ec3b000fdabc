import { z } from 'zod';

/** Every response carries one of these; failures that concern an account also carry triesRemaining. */
export const STATUSES = ['OK', 'NOT_FOUND', 'WRONG_PASSWORD', 'LOCKED', 'RATE_LIMITED', 'UNAUTHORIZED', 'BAD_REQUEST', 'CONFLICT', 'UNAVAILABLE', 'INTERNAL_ERROR'] as const;
export type VaultStatus = (typeof STATUSES)[number];

export const HTTP_STATUS: Record<VaultStatus, number> = {
  OK: 200,
  NOT_FOUND: 404,
  WRONG_PASSWORD: 403,
  LOCKED: 410,
  RATE_LIMITED: 429,
  UNAUTHORIZED: 401,
  BAD_REQUEST: 400,
  CONFLICT: 409,
  UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
};

export const MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_MAX_ATTEMPTS = 10;

const b64url = z.string().min(1).max(8192).regex(/^[A-Za-z0-9_-]+=*$/, 'must be base64url');
export const accountName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'account names are 1-64 lowercase letters, digits, ".", "_" or "-"');

export const enrollStart = z.strictObject({ account: accountName, registrationRequest: b64url });
/** An Ed25519 public key (32 bytes) in unpadded base64url: 43 characters. */
export const anchorKey = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be an Ed25519 public key (32 bytes, base64url)');

export const enrollFinish = z.strictObject({
  account: accountName,
  /** From enroll/start: only a started enrolment can finish (PROTOCOL.md, Enrollment). */
  enrollId: b64url,
  registrationRecord: b64url,
  /** The backup key encrypted under a key only the password holder can derive (escrow.ts). */
  escrow: b64url,
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  maxAttempts: z.number().int().min(1).max(255).default(DEFAULT_MAX_ATTEMPTS),
  /** Verifies the account's anchors; only the backup key's holder can sign them (anchor.ts). */
  anchorKey,
});
export const loginStart = z.strictObject({ account: accountName, startLoginRequest: b64url });
export const loginFinish = z.strictObject({ account: accountName, loginId: b64url, finishLoginRequest: b64url });
export const loginAbort = z.strictObject({ account: accountName, loginId: b64url });
export const passwordStart = z.strictObject({ account: accountName, sessionId: b64url, registrationRequest: b64url });
export const setAnchorKey = z.strictObject({ account: accountName, sessionId: b64url, anchorKey });
export const passwordFinish = z.strictObject({ account: accountName, sessionId: b64url, registrationRecord: b64url, escrow: b64url });

export const anchorBody = z.strictObject({
  source: z.string().min(1).max(128),
  backupId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  generation: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  keyId: z.string().regex(/^[0-9a-f]{16}$/),
  /** Ed25519 under the anchor-signing seed (anchor.ts): the vault can check anchors, never forge them. */
  sig: z.string().regex(/^[0-9a-f]{128}$/),
});
export const putAnchor = z.strictObject({ account: accountName, anchor: anchorBody });
export const accountOnly = z.strictObject({ account: accountName });

export type Anchor = z.infer<typeof anchorBody>;

export interface VaultResponse {
  status: VaultStatus;
  message?: string;
  triesRemaining?: number;
  retryAfterSeconds?: number;
  [field: string]: unknown;
}
