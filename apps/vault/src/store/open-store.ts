import type { VaultStore } from './store.js';

/** `sqlite:PATH` (the default) or `postgres://…`. */
export async function openStore(database: string): Promise<VaultStore> {
  if (/^postgres(ql)?:\/\//.test(database)) {
    const { PostgresStore } = await import('./postgres-store.js');
    return new PostgresStore(database);
  }
  const { SqliteStore } = await import('./sqlite-store.js');
  return new SqliteStore(database.replace(/^sqlite:/, ''));
}
