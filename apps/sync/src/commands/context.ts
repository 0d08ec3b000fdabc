import { existsSync } from 'node:fs';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { defaultConfigPath } from '../env.js';
import { openDestination, type Destination } from '../destinations.js';
import { usageError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';

export interface GlobalOptions {
  readonly debug?: boolean;
  readonly jsonLogs?: boolean;
}

export interface Context {
  readonly config: LoadedConfig;
  readonly log: Logger;
}

export function loggerFor(options: GlobalOptions): Logger {
  return createLogger({ json: Boolean(options.jsonLogs), debug: Boolean(options.debug) });
}

export function contextFor(configPath: string | undefined, options: GlobalOptions): Context {
  return { config: loadConfig(configPath ?? defaultConfig()), log: loggerFor(options) };
}

/** No --config: $COFFER_CONFIG, else $XDG_CONFIG_HOME/coffer/coffer.yaml, which must exist. */
function defaultConfig(): string {
  const { path, from } = defaultConfigPath();
  if (!existsSync(path)) throw usageError(`no config: pass --config FILE (-c), set COFFER_CONFIG, or create ${path} (${from} is missing)`);
  return path;
}

/** Opens the configured destinations, or just the one named. */
export async function destinationsFor(ctx: Context, only?: string): Promise<Destination[]> {
  const chosen = only ? ctx.config.destinations.filter((d) => d.name === only) : ctx.config.destinations;
  if (only && chosen.length === 0) {
    throw usageError(`no destination named "${only}" in ${ctx.config.configPath} (have: ${ctx.config.destinations.map((d) => d.name).join(', ')})`);
  }
  return Promise.all(chosen.map((d) => openDestination(d, ctx.log)));
}
