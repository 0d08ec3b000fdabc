export { configSchema, type Config } from './config/schema.js';
export { loadConfig, type LoadedConfig } from './config/load.js';
export { applyRetention, type RetentionPolicy, type RetentionDecision } from './retention/apply-retention.js';
