import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as opaque from '@serenity-kit/opaque';
import { createVaultHandler, openStore, type VaultStore } from '../src/index.js';

export interface TestVault {
  readonly url: string;
  readonly store: VaultStore;
  readonly dbPath?: string;
  close(): Promise<void>;
}

/** A vault on loopback in this process, on SQLite (default) or the given database URL. */
export async function startVault(database?: string, limits = { requestsPerIpPerMinute: 100_000, loginsPerAccountPerMinute: 100_000 }): Promise<TestVault> {
  await opaque.ready;
  const dbPath = database ? undefined : join(mkdtempSync(join(tmpdir(), 'coffer-vault-api-')), 'vault.db');
  const store = await openStore(database ?? `sqlite:${dbPath}`);
  const handler = createVaultHandler({ store, serverSetup: opaque.server.createSetup(), ...limits });
  const server: Server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    store,
    dbPath,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await store.close();
    },
  };
}
