import { Cron } from 'croner';
import { parseDuration } from '../config/duration.js';
import type { Config } from '../config/schema.js';

/** When the next run starts, given when the last one ended (null for the first run). */
export function nextRunAt(schedule: Config['schedule'], lastEnded: Date | null, now: Date): Date {
  if (schedule.every) {
    // `every` runs once at start, then that long after each run ends: runs never overlap.
    if (!lastEnded) return now;
    return new Date(lastEnded.getTime() + parseDuration(schedule.every)!);
  }
  return new Cron(schedule.cron!, { paused: true, timezone: 'UTC' }).nextRun(now) ?? new Date(now.getTime() + 86_400_000);
}
