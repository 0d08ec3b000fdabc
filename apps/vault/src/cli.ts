#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { once } from 'node:events';
import { Command, CommanderError } from 'commander';
import { loadVaultConfig, VaultConfigError } from './config.js';
import { loadServerSetup } from './secrets.js';
import { createVaultHandler, hashToken, newToken } from './server.js';
import { openStore } from './store/open-store.js';

const program = new Command('coffer-vault').description('Coffer backup key vault').exitOverride();

program
  .command('serve')
  .description('serve the vault API')
  .requiredOption('--config <file>', 'config file')
  .action(async (options: { config: string }) => {
    const config = loadVaultConfig(options.config);
    const serverSetup = await loadServerSetup(config.secretsFile);
    const store = await openStore(config.database);
    const handler = createVaultHandler({
      store,
      serverSetup,
      ...config.rateLimits,
      log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
    });
    // The handler never rejects; the catch is a last guard so that no request can end the process.
    const serve = (req: IncomingMessage, res: ServerResponse) => void handler(req, res).catch(() => res.destroy());
    const server = config.tls ? createHttpsServer({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) }, serve) : createHttpServer(serve);
    // Keep idle connections longer than clients pause between messages (Node's default is 5 s): a
    // client must never see its socket closed under it, since it cannot safely resend a login.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    const colon = config.listen.lastIndexOf(':');
    server.listen(Number(config.listen.slice(colon + 1)), config.listen.slice(0, colon).replace(/^\[|\]$/g, ''));
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => Promise.reject(e))]);
    const { port } = server.address() as { port: number };
    process.stderr.write(`coffer-vault: listening on ${config.tls ? 'https' : 'http'}://${config.listen.slice(0, colon)}:${port} (database ${config.database.startsWith('sqlite:') ? config.database : 'postgres'})\n`);
    const stop = () => {
      server.close();
      server.closeAllConnections();
      void store.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

const token = program.command('token').description('manage access tokens');
token
  .command('issue')
  .description('issue a new access token for ACCOUNT (printed once); every older token stops working')
  .argument('<account>')
  .requiredOption('--config <file>', 'config file')
  .action(async (account: string, options: { config: string }) => {
    const config = loadVaultConfig(options.config);
    const store = await openStore(config.database);
    try {
      const fresh = newToken();
      if (!(await store.setTokenHash(account, hashToken(fresh)))) throw new VaultConfigError(`no account "${account}" in this vault`);
      process.stdout.write(`${fresh}\n`);
      process.stderr.write(`new access token for ${account} printed above; it is not stored anywhere readable, and older tokens no longer work\n`);
    } finally {
      await store.close();
    }
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
    return;
  }
  process.stderr.write(`coffer-vault: ${(err as Error)?.message ?? err}\n`);
  process.exitCode = err instanceof VaultConfigError ? 2 : 1;
});
