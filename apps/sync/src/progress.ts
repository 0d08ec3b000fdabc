import { createRequire } from 'node:module';

export interface Progress {
  /** Bytes done, and the total once it is known. */
  update(bytes: number, total: number | undefined): void;
  stop(): void;
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

function duration(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

/**
 * A bar with bytes, rate and ETA on a terminal; null otherwise (log lines say what happened), so
 * that nothing is spent on a total no one sees.
 */
export function createProgress(label: string, enabled: boolean): Progress | null {
  if (!enabled || !process.stderr.isTTY) return null;
  // Loaded only for a terminal: runs from cron, the daemon and scripts never need it.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {done} of {all} | {rate} | ETA {left}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let startedBar = false;
  return {
    update(bytes, total) {
      const perSecond = bytes / Math.max(0.001, (Date.now() - started) / 1000);
      // Until a walk has counted the total, the bar stays at 0% and says so.
      const payload = {
        done: mib(bytes),
        all: total === undefined ? 'counting' : mib(total),
        rate: `${mib(perSecond)}/s`,
        left: total === undefined || perSecond === 0 ? '…' : duration((total - bytes) / perSecond),
      };
      const value = total === undefined ? 0 : bytes;
      if (!startedBar) {
        bar.start(Math.max(total ?? 1, 1), value, payload);
        startedBar = true;
        return;
      }
      if (total !== undefined && bar.getTotal() !== total) bar.setTotal(Math.max(total, 1));
      bar.update(value, payload);
    },
    stop() {
      if (startedBar) bar.stop();
    },
  };
}
