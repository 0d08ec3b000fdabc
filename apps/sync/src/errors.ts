import { getSystemErrorMap } from 'node:util';

/** An error meant for the person at the terminal: one line, no stack trace, a stable code. */
export class CofferError extends Error {
  override readonly name = 'CofferError';
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Exit codes scripts can rely on (README, `coffer --help`): 0 success; 1 a run failed; 2 bad usage
 * or configuration; 12 wrong key or password; 130 interrupted (SIGINT or SIGTERM).
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, wrongKey: 12, interrupted: 130 } as const;

export const configError = (message: string) => new CofferError('CONFIG', message, EXIT.usage);
export const usageError = (message: string) => new CofferError('USAGE', message, EXIT.usage);

/** A system call's failure as people read it: `no space left on device (ENOSPC)`. */
export const systemErrorText = (err: NodeJS.ErrnoException): string => `${getSystemErrorMap().get(err.errno ?? 0)?.[1] ?? 'system error'} (${err.code})`;
