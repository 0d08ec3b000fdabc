import { describe, expect, it } from 'vitest';
import { assessHealth, scheduleInterval, type PairHealth } from './health.js';

const H = 3_600_000;
const start = new Date('2026-12-01T00:00:00Z');
const pair = (over: Partial<PairHealth> = {}): PairHealth => ({ source: 'chats', destination: 's3', lastRunOk: null, lastRunAt: null, lastSuccessAt: null, lastError: null, ...over });
const at = (hours: number) => new Date(start.getTime() + hours * H);

describe('daemon health', () => {
  it('is ok before the first run, and after a run that succeeded everywhere', () => {
    expect(assessHealth([pair()], 6 * H, start, at(1)).status).toBe('ok');
    expect(assessHealth([pair({ lastRunOk: true, lastSuccessAt: at(1).toISOString() })], 6 * H, start, at(2)).status).toBe('ok');
  });

  it('fails when the last run failed on any destination, naming it and why', () => {
    const report = assessHealth(
      [pair({ destination: 'disk', lastRunOk: true, lastSuccessAt: at(1).toISOString() }), pair({ lastRunOk: false, lastError: 'cannot reach s3 (connection refused to 127.0.0.1:9000)' })],
      6 * H,
      start,
      at(1),
    );
    expect(report).toEqual({ status: 'failing', problems: [{ source: 'chats', destination: 's3', reason: 'the last backup failed: cannot reach s3 (connection refused to 127.0.0.1:9000)' }] });
  });

  it('fails when no backup succeeded within twice the interval, from the last success or the start', () => {
    const ok = pair({ lastRunOk: true, lastSuccessAt: at(1).toISOString() });
    expect(assessHealth([ok], 6 * H, start, at(13)).status).toBe('ok');
    expect(assessHealth([ok], 6 * H, start, at(13.1)).problems[0]!.reason).toMatch(/^no successful backup since 2026-12-01T01:00:00.000Z, more than twice the schedule's interval \(720 min\)$/);
    // Never succeeded and never ran (a run that hangs): counted from the daemon's start.
    expect(assessHealth([pair()], 6 * H, start, at(12.1)).problems[0]!.reason).toMatch(/since the daemon started/);
  });

  it('takes the interval from `every`, or from the gap between cron runs', () => {
    expect(scheduleInterval({ every: '6h' }, start)).toBe(6 * H);
    expect(scheduleInterval({ cron: '0 3 * * *' }, start)).toBe(24 * H);
    expect(scheduleInterval({ cron: '*/15 * * * *' }, start)).toBe(H / 4);
  });
});
