import { LocalBackend, LoggingBackend, RetryingBackend, type StorageBackend } from '@coffer/storage';
import type { DestinationConfig } from './config/schema.js';
import { CofferError, EXIT } from './errors.js';
import type { Logger } from './log.js';

export interface Destination {
  readonly name: string;
  readonly config: DestinationConfig;
  readonly backend: StorageBackend;
  /** Removes leftovers of interrupted uploads where the backend keeps any. */
  cleanup(): Promise<number>;
}

/** Builds each destination's backend, wrapped in retry and logging decorators. */
export async function openDestination(config: DestinationConfig, log: Logger): Promise<Destination> {
  let inner: StorageBackend;
  let cleanup = async () => 0;
  switch (config.type) {
    case 'local': {
      const local = new LocalBackend({ root: config.path });
      inner = local;
      cleanup = () => local.cleanupIncomplete();
      break;
    }
    default:
      throw new CofferError('DESTINATION', `destination "${config.name}": type "${config.type}" is not available in this build`, EXIT.usage);
  }
  const logged = new LoggingBackend(inner, (e) => log.debug({ storage: e }, `${e.operation} ${e.key} ${e.ok ? 'ok' : e.errorCode}`));
  const backend = new RetryingBackend(logged, {
    onRetry: ({ operation, key, attempt, delayMs, error }) =>
      log.warn(`destination ${config.name}: ${operation} ${key ?? ''} failed (${error.code}), retry ${attempt} in ${Math.round(delayMs)} ms`),
  });
  return { name: config.name, config, backend, cleanup };
}
