export type * from './backend.js';
export * from './errors.js';
export { createChecksum, checksumOf, type ChecksumAlgorithm, type RunningChecksum } from './checksum.js';
export { validateKey, validatePrefix, MAX_KEY_BYTES } from './object-key.js';
export { verifyLength } from './verify-length.js';
export { MemoryBackend, type MemoryBackendOptions } from './backends/memory.js';
export { LocalBackend, LOCAL_TEMP_DIR, type LocalBackendOptions } from './backends/local.js';
export { RetryingBackend, withRetry, DEFAULT_RETRY, type RetryPolicy } from './decorators/retry.js';
export { LoggingBackend, type StorageLogEvent } from './decorators/logging.js';
