import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { openStore, type VaultStore } from '../src/index.js';
import { startPostgres, type Postgres } from '../src/testing/postgres.js';
import { runStoreSuite } from './store-suite.js';

const stores: VaultStore[] = [];
let pg: Postgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  for (const s of stores) await s.close();
  pg?.stop();
});

const keep = (s: VaultStore) => (stores.push(s), s);
runStoreSuite('sqlite', async () => keep(await openStore(`sqlite:${join(mkdtempSync(join(tmpdir(), 'coffer-vault-')), 'vault.db')}`)));
runStoreSuite('postgres', async () => keep(await openStore(pg.url)));
