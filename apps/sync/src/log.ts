import { createRequire } from 'node:module';

export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface LoggerOptions {
  /** Structured JSON lines (pino) instead of plain lines. */
  readonly json: boolean;
  readonly debug: boolean;
}

/**
 * Logs go to stderr, so stdout stays for command output (`list --json`). Callers pass keys,
 * ids and sizes, never key material: nothing secret is ever handed to the logger.
 */
export function createLogger(options: LoggerOptions): Logger {
  if (options.json) {
    // Loaded only for JSON logs: the plain lines need none of it, and it costs ~5 ms to load.
    const { destination, pino } = createRequire(import.meta.url)('pino') as typeof import('pino');
    return pino({ level: options.debug ? 'debug' : 'info', base: { app: 'coffer' } }, destination(2));
  }
  const line = (level: string) => (obj: object | string, msg?: string) => {
    const text = typeof obj === 'string' ? obj : (msg ?? '');
    process.stderr.write(`${level === 'info' ? '' : `${level}: `}${text}\n`);
  };
  return {
    debug: options.debug ? line('debug') : () => {},
    info: line('info'),
    warn: line('warning'),
    error: line('error'),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
