export * from './schemas.js';
export { sealEscrow, openEscrow } from './escrow.js';
export { signAnchor, verifyAnchor, type UnsignedAnchor } from './anchor.js';
export { VaultClient, VaultError, type UnlockResult, type VaultAccountStatus } from './client.js';
