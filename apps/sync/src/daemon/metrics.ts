import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SourceOutcome } from '../pipeline/backup-source.js';

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly lastSuccess = new Gauge({ name: 'coffer_last_success_timestamp_seconds', help: 'Unix time of the last verified backup', labelNames: ['source', 'destination'], registers: [this.registry] });
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

  record(outcome: SourceOutcome): void {
    this.duration.observe({ source: outcome.source }, outcome.seconds);
    for (const d of outcome.destinations) {
      const labels = { source: outcome.source, destination: d.destination };
      if (d.ok) {
        this.lastSuccess.set(labels, Date.now() / 1000);
        this.bytes.inc(labels, outcome.size);
      } else this.failures.inc(labels);
    }
  }
}
