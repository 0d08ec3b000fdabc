import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SourceOutcome } from '../pipeline/backup-source.js';

export interface MetricPair {
  readonly source: string;
  readonly destination: string;
}

/**
 * The daemon's Prometheus metrics. Every series exists from start-up, for every configured source
 * and destination, so a dashboard or an alert never meets a missing series:
 * - counters start at 0;
 * - `coffer_last_success_timestamp_seconds` is 0 until a backup succeeds (so `time() - …` is huge
 *   and a staleness alert fires for a destination that never worked);
 * - `coffer_last_run_success` is NaN until a run has reached that source and destination (no run
 *   is not a failure), then 1 or 0.
 */
export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly lastSuccess = new Gauge({ name: 'coffer_last_success_timestamp_seconds', help: 'Unix time of the last verified backup (0: none since start-up)', labelNames: ['source', 'destination'], registers: [this.registry] });
  private readonly lastRunSuccess = new Gauge({ name: 'coffer_last_run_success', help: 'Whether the last run backed this source up to this destination: 1 yes, 0 no, NaN no run yet', labelNames: ['source', 'destination'], registers: [this.registry] });
  private readonly bytes = new Counter({ name: 'coffer_backup_bytes_total', help: 'Encrypted bytes uploaded and verified', labelNames: ['source', 'destination'], registers: [this.registry] });
  private readonly failures = new Counter({ name: 'coffer_backup_failures_total', help: 'Failed backups', labelNames: ['source', 'destination'], registers: [this.registry] });
  private readonly duration = new Histogram({
    name: 'coffer_backup_duration_seconds',
    help: 'Duration of one source backup (archive, encrypt, upload, verify, rotate)',
    labelNames: ['source'],
    buckets: [1, 5, 15, 60, 300, 900, 3600, 14_400],
    registers: [this.registry],
  });
  readonly runs = new Counter({ name: 'coffer_runs_total', help: 'Scheduled runs started', registers: [this.registry] });
  readonly runFailures = new Counter({ name: 'coffer_run_failures_total', help: 'Runs that failed before any upload (config, key, source unreadable)', registers: [this.registry] });

  constructor(pairs: readonly MetricPair[], version: string) {
    new Gauge({ name: 'coffer_build_info', help: 'Always 1; the version of coffer running', labelNames: ['version'], registers: [this.registry] }).set({ version }, 1);
    for (const { source, destination } of pairs) {
      const labels = { source, destination };
      this.lastSuccess.set(labels, 0);
      this.lastRunSuccess.set(labels, Number.NaN);
      this.bytes.inc(labels, 0);
      this.failures.inc(labels, 0);
    }
    for (const source of new Set(pairs.map((p) => p.source))) this.duration.zero({ source });
    this.runs.inc(0);
    this.runFailures.inc(0);
  }

  record(outcome: SourceOutcome): void {
    this.duration.observe({ source: outcome.source }, outcome.seconds);
    for (const d of outcome.destinations) {
      const labels = { source: outcome.source, destination: d.destination };
      this.lastRunSuccess.set(labels, d.ok ? 1 : 0);
      if (d.ok) {
        this.lastSuccess.set(labels, Date.now() / 1000);
        this.bytes.inc(labels, outcome.size);
      } else this.failures.inc(labels);
    }
  }

  /** A source whose backup failed before reaching any destination failed on all of them. */
  recordFailure(pairs: readonly MetricPair[]): void {
    for (const { source, destination } of pairs) {
      const labels = { source, destination };
      this.lastRunSuccess.set(labels, 0);
      this.failures.inc(labels);
    }
  }
}
