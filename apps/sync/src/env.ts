import { homedir } from 'node:os';
import { join } from 'node:path';
import { configError } from './errors.js';

/** The config file when no --config is given: $COFFER_CONFIG, else the XDG config folder's. */
export function defaultConfigPath(): { path: string; from: string } {
  if (process.env.COFFER_CONFIG) return { path: process.env.COFFER_CONFIG, from: 'COFFER_CONFIG' };
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return { path: join(base, 'coffer', 'coffer.yaml'), from: 'the default' };
}

/**
 * The one place that reads `process.env` for configuration: secrets named in the config
 * (`…Env` fields) are looked up here, and their values never reach logs or error messages.
 */
export function secretFromEnv(variable: string, what: string): string {
  const value = process.env[variable];
  if (value === undefined || value === '') throw configError(`${what}: environment variable ${variable} is not set`);
  return value;
}

/**
 * The AWS SDK warns on every run that its releases after January 2027 need Node 22. We pin
 * 3.1169 (which supports Node 20), so the notice is noise for users: turn it off unless they chose.
 */
export function quietSdkNotices(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

export interface StorageTuning {
  /** Overrides of the retry policy's waits (DEFAULT_RETRY otherwise). */
  readonly retry: { baseDelayMs?: number; maxDelayMs?: number; maxAttempts?: number };
  /** How long a provider request may stall before it fails and is retried. */
  readonly timeoutMs?: number;
}

function positiveInteger(variable: string): number | undefined {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw configError(`environment variable ${variable} must be a whole number of at least 1, not ${JSON.stringify(raw)}`);
  return value;
}

/**
 * Retry and timeout settings for cloud destinations, from the environment (documented in the
 * README under "Retries and timeouts"): COFFER_RETRY_BASE_MS (first wait, default 500),
 * COFFER_RETRY_MAX_MS (longest wait, default 30000), COFFER_RETRY_ATTEMPTS (default 8) and
 * COFFER_STORAGE_TIMEOUT_MS (a stalled request fails after this long, default 120000). Tests
 * shorten them; users rarely need to.
 */
export function storageTuning(): StorageTuning {
  return {
    retry: {
      baseDelayMs: positiveInteger('COFFER_RETRY_BASE_MS'),
      maxDelayMs: positiveInteger('COFFER_RETRY_MAX_MS'),
      maxAttempts: positiveInteger('COFFER_RETRY_ATTEMPTS'),
    },
    timeoutMs: positiveInteger('COFFER_STORAGE_TIMEOUT_MS'),
  };
}
