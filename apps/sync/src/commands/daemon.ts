import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { assessHealth, scheduleInterval, type PairHealth } from '../daemon/health.js';
import { DaemonMetrics } from '../daemon/metrics.js';
import { nextRunAt } from '../daemon/schedule.js';
import { cofferVersion } from '../daemon/version.js';
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

  const startedAt = new Date();
  const pairs: PairHealth[] = config.sources.flatMap((s) =>
    destinations.map((d) => ({ source: s.name, destination: d.name, lastRunOk: null, lastRunAt: null, lastSuccessAt: null, lastError: null })),
  );
  const pairsOf = (source: string) => pairs.filter((p) => p.source === source);
  const metrics = new DaemonMetrics(pairs, cofferVersion());
  const run = { lastRunOk: null as boolean | null, lastRunEndedAt: null as string | null, nextRunAt: null as string | null };
  const fail = (list: PairHealth[], err: unknown) => {
    const at = new Date().toISOString();
    for (const p of list) Object.assign(p, { lastRunOk: false, lastRunAt: at, lastError: describeError(err) });
    metrics.recordFailure(list);
  };
  let server: Server | undefined;
  try {
    server = createServer((req, res) => {
      if (req.url === '/healthz') {
        // 503 when any destination's last run failed, or none succeeded for twice the interval:
        // a probe, a systemd watchdog or an uptime checker sees it, and the body says why.
        const health = assessHealth(pairs, scheduleInterval(config.schedule, new Date()), startedAt, new Date());
        res.writeHead(health.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ...health, ...run, destinations: pairs }));
      } else if (req.url === '/metrics') {
        // prom-client writes NaN as "Nan"; the exposition format spells it "NaN".
        metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text.replace(/ Nan$/gm, ' NaN')));
      } else res.writeHead(404).end('not found\n');
    });
    const [host, port] = [config.daemon.listen.slice(0, config.daemon.listen.lastIndexOf(':')).replace(/^\[|\]$/g, ''), Number(config.daemon.listen.split(':').pop())];
    server.listen(port, host);
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err))]);
    log.info(`daemon: serving /healthz and /metrics on http://${config.daemon.listen}`);

    let lastEnded: Date | null = null;
    while (!stopping.signal.aborted) {
      const next = nextRunAt(config.schedule, lastEnded, new Date());
      run.nextRunAt = next.toISOString();
      if (next.getTime() > Date.now()) {
        log.info(`daemon: next backup at ${next.toISOString()}`);
        // At most a day per timer: Node fires a timer longer than 2^31 ms (24.8 days: a monthly
        // or yearly cron) at once, which ran backups back to back.
        while (!stopping.signal.aborted && next.getTime() > Date.now()) {
          await sleep(Math.min(next.getTime() - Date.now(), 86_400_000), undefined, { signal: stopping.signal }).catch(() => {});
        }
        if (stopping.signal.aborted) break;
      }
      metrics.runs.inc();
      try {
        run.lastRunOk = await runBackup({
          ...ctx,
          destinations,
          signal: stopping.signal,
          progress: false,
          onOutcome: (o) => {
            metrics.record(o);
            const at = new Date().toISOString();
            for (const d of o.destinations) {
              const p = pairs.find((x) => x.source === o.source && x.destination === d.destination);
              if (!p) continue;
              Object.assign(p, { lastRunOk: d.ok, lastRunAt: at, lastError: d.ok ? null : (d.error ?? null) });
              if (d.ok) p.lastSuccessAt = at;
            }
          },
          onSourceFailure: (source, err) => fail(pairsOf(source), err),
        });
      } catch (err) {
        if (stopping.signal.aborted) break;
        metrics.runFailures.inc();
        run.lastRunOk = false;
        fail(pairs, err);
        log.error(`daemon: run failed: ${describeError(err)}`);
      }
      lastEnded = new Date();
      run.lastRunEndedAt = lastEnded.toISOString();
    }
    return 0;
  } finally {
    server?.close();
    await release();
    log.info('daemon: stopped');
  }
}
