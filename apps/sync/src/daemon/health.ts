import { Cron } from 'croner';
import { parseDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';

/** One source on one destination, as the daemon last saw it. */
export interface PairHealth {
  readonly source: string;
  readonly destination: string;
  /** null: no run has reached it yet. */
  lastRunOk: boolean | null;
  lastRunAt: string | null;
  lastSuccessAt: string | null;
  /** Why the last run failed there, in the words of the error. */
  lastError: string | null;
}

export interface HealthReport {
  readonly status: 'ok' | 'failing';
  readonly problems: { source: string; destination: string; reason: string }[];
}

/** The schedule's interval: `every`, or for cron the gap between its next two runs. */
export function scheduleInterval(schedule: Config['schedule'], now: Date): number {
  if (schedule.every) return parseDuration(schedule.every)!;
  const cron = new Cron(schedule.cron!, { paused: true, timezone: 'UTC' });
  const [a, b] = cron.nextRuns(2, now);
  return a && b ? b.getTime() - a.getTime() : 86_400_000;
}

/**
 * Unhealthy when the last run failed on any destination, or when a destination has had no
 * successful backup for twice the schedule's interval (counted from the daemon's start when it
 * has had none since): a probe then answers 503 with each reason.
 */
export function assessHealth(pairs: readonly PairHealth[], intervalMs: number, startedAt: Date, now: Date): HealthReport {
  const problems: HealthReport['problems'] = [];
  const limit = 2 * intervalMs;
  for (const p of pairs) {
    if (p.lastRunOk === false) {
      problems.push({ source: p.source, destination: p.destination, reason: `the last backup failed: ${p.lastError ?? 'unknown error'}` });
      continue;
    }
    const since = p.lastSuccessAt ? Date.parse(p.lastSuccessAt) : startedAt.getTime();
    if (now.getTime() - since > limit) {
      const when = p.lastSuccessAt ? `since ${p.lastSuccessAt}` : 'since the daemon started';
      problems.push({ source: p.source, destination: p.destination, reason: `no successful backup ${when}, more than twice the schedule's interval (${Math.round(limit / 60_000)} min)` });
    }
  }
  return { status: problems.length ? 'failing' : 'ok', problems };
}
