import { contextFor, type GlobalOptions } from './context.js';

export async function daemonCommand(options: GlobalOptions & { config?: string }): Promise<number> {
  contextFor(options.config, options);
  throw new Error('daemon: not yet implemented');
}
