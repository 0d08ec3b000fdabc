/** Stable error codes of the crypto core (SPEC.md §7). */
export type CryptoErrorCode =
  | 'INVALID_KEY'
  | 'INVALID_ARGUMENT'
  | 'WRONG_KEY'
  | 'NOT_A_COFFER_BACKUP'
  | 'UNSUPPORTED_FORMAT'
  | 'CORRUPTED';

export class CofferCryptoError extends Error {
  override readonly name = 'CofferCryptoError';
  readonly code: CryptoErrorCode;
  /** Crypto failures never go away by retrying. */
  readonly isRetryable = false;

  /** WRONG_KEY: the key id the backup names (not secret: key ids are public by design, SPEC §2). */
  readonly foundKeyId?: string;

  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown; foundKeyId?: string }) {
    super(message, options);
    this.code = code;
    if (options?.foundKeyId) this.foundKeyId = options.foundKeyId;
  }
}

/** The one message for every authentication failure: it never says which check failed (SPEC §4). */
export const CORRUPTED_MESSAGE = 'backup is corrupted or has been tampered with';

export function corrupted(): CofferCryptoError {
  // No cause attached: a cause could reveal which byte or which check failed.
  return new CofferCryptoError('CORRUPTED', CORRUPTED_MESSAGE);
}

export function invalidKey(message: string): CofferCryptoError {
  return new CofferCryptoError('INVALID_KEY', message);
}

export function invalidArgument(message: string): CofferCryptoError {
  return new CofferCryptoError('INVALID_ARGUMENT', message);
}

export function wrongKey(expected: string, found: string): CofferCryptoError {
  return new CofferCryptoError(
    'WRONG_KEY',
    `backup was made with another key (backup key id ${found}, this key id ${expected})`,
    { foundKeyId: found },
  );
}

export function notACofferBackup(): CofferCryptoError {
  return new CofferCryptoError(
    'NOT_A_COFFER_BACKUP',
    'not a Coffer backup: the file has no authenticated coffer stanza',
  );
}

export function unsupportedFormat(version: string): CofferCryptoError {
  return new CofferCryptoError(
    'UNSUPPORTED_FORMAT',
    `unsupported Coffer backup format version ${JSON.stringify(version)} (this build reads version 1)`,
  );
}
