export { createVaultHandler, hashToken, newToken, type VaultServerOptions } from './server.js';
export { openStore } from './store/open-store.js';
export type { VaultStore, AccountRow } from './store/store.js';
export { loadVaultConfig, type VaultConfig } from './config.js';
export { loadServerSetup } from './secrets.js';
