import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonMetrics } from '../daemon/metrics.js';
import { nextRunAt } from '../daemon/schedule.js';
import { acquireLock } from '../lock.js';
import { describeError } from '../pipeline/backup-source.js';
import { contextFor, destinationsFor, type GlobalOptions } from './context.js';
import { runBackup } from './run-backup.js';

/** Runs backups on the schedule until SIGINT/SIGTERM; an upload in progress is aborted cleanly. */
export async function daemonCommand(options: GlobalOptions & { config?: string }): Promise<number> {
  const ctx = contextFor(options.config, options);
  const { config, log } = ctx;
  const destinations = await destinationsFor(ctx);
  const release = await acquireLock(config.stateDir);
  const stopping = new AbortController();
  const stop = (signal: string) => {
    if (stopping.signal.aborted) return;
    log.info(`daemon: ${signal} received, stopping`);
    stopping.abort();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const metrics = new DaemonMetrics();
  const health = { lastRunOk: null as boolean | null, lastRunEndedAt: null as string | null, nextRunAt: null as string | null };
  let server: Server | undefined;
  try {
    server = createServer((req, res) => {
      if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', ...health }));
      } else if (req.url === '/metrics') {
        metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
      } else res.writeHead(404).end('not found\n');
    });
    const [host, port] = [config.daemon.listen.slice(0, config.daemon.listen.lastIndexOf(':')).replace(/^\[|\]$/g, ''), Number(config.daemon.listen.split(':').pop())];
    server.listen(port, host);
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))]);
    log.info(`daemon: serving /healthz and /metrics on http://${config.daemon.listen}`);

    let lastEnded: Date | null = null;
    while (!stopping.signal.aborted) {
      const next = nextRunAt(config.schedule, lastEnded, new Date());
      health.nextRunAt = next.toISOString();
      const wait = next.getTime() - Date.now();
      if (wait > 0) {
        log.info(`daemon: next backup at ${next.toISOString()}`);
        await sleep(wait, undefined, { signal: stopping.signal }).catch(() => {});
        if (stopping.signal.aborted) break;
      }
      metrics.runs.inc();
      try {
        health.lastRunOk = await runBackup({ ...ctx, destinations, signal: stopping.signal, progress: false, onOutcome: (o) => metrics.record(o) });
      } catch (err) {
        if (stopping.signal.aborted) break;
        metrics.runFailures.inc();
        health.lastRunOk = false;
        log.error(`daemon: run failed: ${describeError(err)}`);
      }
      lastEnded = new Date();
      health.lastRunEndedAt = lastEnded.toISOString();
    }
    return 0;
  } finally {
    server?.close();
    await release();
    log.info('daemon: stopped');
  }
}
