import { readFile } from 'node:fs/promises';
import { auth } from '@googleapis/drive';
import { StorageError } from '@coffer/storage';

export const DRIVE_SCOPES = {
  appData: 'https://www.googleapis.com/auth/drive.appdata',
  file: 'https://www.googleapis.com/auth/drive.file',
} as const;

export type DriveAuthClient = InstanceType<typeof auth.OAuth2>;

export interface CredentialOptions {
  /** Token endpoint override (tests, proxies). */
  readonly tokenUrl?: string;
  readonly scopes: string[];
}

/**
 * Builds an auth client from a credentials file: an OAuth client with a refresh token
 * (`{"type": "authorized_user", client_id, client_secret, refresh_token}`, as `coffer auth drive`
 * writes) or a service-account key (`{"type": "service_account", client_email, private_key}`).
 */
export async function loadDriveCredentials(path: string, options: CredentialOptions): Promise<DriveAuthClient> {
  const fail = (why: string) => new StorageError('UNAUTHENTICATED', `Drive credentials ${path}: ${why}`, { backend: 'drive' });
  let json: Record<string, string>;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' ? 'no such file (run `coffer auth drive`)' : code ? `cannot read (${code})` : 'not valid JSON');
  }
  const endpoints = options.tokenUrl ? { oauth2TokenUrl: options.tokenUrl } : undefined;
  if (json.type === 'authorized_user') {
    if (!json.client_id || !json.client_secret || !json.refresh_token) throw fail('client_id, client_secret and refresh_token are required');
    const client = new auth.OAuth2({ clientId: json.client_id, clientSecret: json.client_secret, endpoints });
    client.setCredentials({ refresh_token: json.refresh_token });
    return client;
  }
  if (json.type === 'service_account') {
    if (!json.client_email || !json.private_key) throw fail('client_email and private_key are required');
    const jwt = new auth.JWT({ email: json.client_email, key: json.private_key, scopes: options.scopes });
    return jwt as unknown as DriveAuthClient;
  }
  throw fail('"type" must be "authorized_user" or "service_account"');
}
