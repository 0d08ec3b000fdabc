export * from './schemas.js';
export { sealEscrow, openEscrow } from './escrow.js';
export { anchorPublicKey, isAnchorKey, signAnchor, verifyAnchor, type UnsignedAnchor } from './anchor.js';
export { checkVaultUrl, VaultClient, VaultError, type UnlockResult, type VaultAccountStatus } from './client.js';
export { isRegistrationRecord, REGISTRATION_RECORD_BYTES } from './registration-record.js';
export { KEY_STRETCHING } from './key-stretching.js';
