import { acquireLock } from '../lock.js';
import { contextFor, destinationsFor, type GlobalOptions } from './context.js';
import { runBackup } from './run-backup.js';

export async function backupCommand(options: GlobalOptions & { config?: string; source?: string; destination?: string }): Promise<number> {
  const ctx = contextFor(options.config, options);
  const destinations = await destinationsFor(ctx, options.destination);
  const release = await acquireLock(ctx.config.stateDir);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const ok = await runBackup({ ...ctx, destinations, onlySource: options.source, signal: controller.signal, progress: !options.jsonLogs });
    return ok ? 0 : 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await release();
  }
}
