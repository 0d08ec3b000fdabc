import { createRequire } from 'node:module';

export interface Progress {
  update(bytes: number, total: number): void;
  stop(): void;
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

/** A bar with bytes, rate and ETA on a terminal; nothing otherwise (log lines say what happened). */
export function createProgress(label: string, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  // Loaded only for a terminal: runs from cron, the daemon and scripts never need it.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {done} of {all} | {rate} | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let startedBar = false;
  return {
    update(bytes, total) {
      const payload = { done: mib(bytes), all: mib(total), rate: `${mib(bytes / Math.max(0.001, (Date.now() - started) / 1000))}/s` };
      if (!startedBar) {
        bar.start(Math.max(total, 1), bytes, payload);
        startedBar = true;
      } else bar.update(bytes, payload);
    },
    stop() {
      if (startedBar) bar.stop();
    },
  };
}
