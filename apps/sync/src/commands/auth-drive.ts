import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { CofferError, EXIT, usageError } from '../errors.js';
import { writeSecretFile } from '../keys.js';
import { contextFor, type GlobalOptions } from './context.js';

interface InstalledClient {
  client_id: string;
  client_secret: string;
  auth_uri: string;
  token_uri: string;
}

/**
 * The OAuth installed-app flow (RFC 8252): a loopback redirect, PKCE (RFC 7636) and a state
 * check. The refresh token goes into the destination's credentialsFile, mode 0600.
 */
export async function authDriveCommand(options: GlobalOptions & { config?: string; destination?: string; clientFile?: string; timeout?: string }): Promise<number> {
  const ctx = contextFor(options.config, options);
  const drives = ctx.config.destinations.filter((d) => d.type === 'drive' && (!options.destination || d.name === options.destination));
  if (drives.length !== 1) throw usageError(options.destination ? `no drive destination named "${options.destination}"` : 'pass --destination NAME (the config has no drive destination, or several)');
  const destination = drives[0]! as Extract<(typeof drives)[number], { type: 'drive' }>;
  if (!options.clientFile) throw usageError('--client-file FILE is required: the OAuth client (type "Desktop app") JSON downloaded from Google Cloud Console');
  let client: InstalledClient;
  try {
    const json = JSON.parse(await readFile(options.clientFile, 'utf8'));
    client = json.installed ?? json;
    if (!client.client_id || !client.client_secret) throw new Error('client_id and client_secret are required');
  } catch (err) {
    throw new CofferError('AUTH', `OAuth client file ${options.clientFile}: ${(err as Error).message}`, EXIT.usage);
  }
  const { DRIVE_SCOPES, APP_DATA } = await import('@coffer/storage-drive');
  const authUri = client.auth_uri ?? 'https://accounts.google.com/o/oauth2/v2/auth';
  const tokenUri = destination.tokenUrl ?? client.token_uri ?? 'https://oauth2.googleapis.com/token';
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('hex');
  const scope = destination.folder === APP_DATA ? DRIVE_SCOPES.appData : DRIVE_SCOPES.file;

  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const redirect = `http://127.0.0.1:${(server.address() as { port: number }).port}/callback`;
  const url = new URL(authUri);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: redirect,
    response_type: 'code',
    scope,
    access_type: 'offline',
    prompt: 'consent',
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  process.stdout.write(`Open this address in a browser and allow access to Google Drive:\n\n  ${url}\n\nWaiting for Google to send you back here...\n`);

  const code = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CofferError('AUTH', 'no answer from the browser within the time limit', EXIT.failure)), Number(options.timeout ?? 300) * 1000);
    server.on('request', (req, res) => {
      const params = new URL(req.url ?? '/', redirect).searchParams;
      if (params.get('state') !== state) {
        res.writeHead(400).end('State mismatch: this answer is not for this Coffer session.\n');
        return;
      }
      clearTimeout(timer);
      const error = params.get('error');
      res.writeHead(200, { 'content-type': 'text/plain' }).end(error ? `Coffer was not given access (${error}). You can close this tab.\n` : 'Coffer has access to Google Drive. You can close this tab.\n');
      if (error) reject(new CofferError('AUTH', `Google did not grant access: ${error}`, EXIT.failure));
      else resolve(params.get('code') ?? '');
    });
  }).finally(() => server.close());

  const response = await fetch(tokenUri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: client.client_id, client_secret: client.client_secret, code_verifier: verifier }),
  }).catch((err) => {
    throw new CofferError('AUTH', `cannot reach Google's token endpoint: ${(err as Error).message}`, EXIT.failure);
  });
  const tokens = (await response.json().catch(() => ({}))) as { refresh_token?: string; error?: string };
  if (!response.ok || !tokens.refresh_token) {
    throw new CofferError('AUTH', `Google refused the authorization code${tokens.error ? ` (${tokens.error})` : ''}`, EXIT.failure);
  }
  await writeSecretFile(
    destination.credentialsFile,
    `${JSON.stringify({ type: 'authorized_user', client_id: client.client_id, client_secret: client.client_secret, refresh_token: tokens.refresh_token }, null, 2)}\n`,
  );
  process.stdout.write(`Saved Drive credentials to ${destination.credentialsFile} (mode 0600).\n`);
  return 0;
}
