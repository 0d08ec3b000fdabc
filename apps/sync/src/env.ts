import { configError } from './errors.js';

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
