export interface RetentionPolicy {
  /** Keep the newest N backups. */
  readonly keepLast: number;
  /** Keep the newest backup of each of the newest N days (UTC) that have one. */
  readonly keepDaily: number;
  /** Keep the newest backup of each of the newest N ISO weeks that have one. */
  readonly keepWeekly: number;
}

export interface RetentionCandidate {
  readonly backupId: string;
  readonly generation: number;
  readonly createdAt: string;
}

export interface RetentionDecision {
  readonly keep: { backupId: string; reasons: string[] }[];
  readonly remove: { backupId: string; reason: string }[];
}

const day = (iso: string) => iso.slice(0, 10);

/** ISO 8601 week, e.g. "2027-W02": weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeek(iso: string): string {
  const d = new Date(`${day(iso)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 4 - (d.getUTCDay() || 7)); // the Thursday of this week decides the year
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/**
 * Which backups of one source (made with one key) to keep. Pure: same input, same answer.
 * `protect` (the backup just made) is always kept; backups dated after `now` are kept too, since
 * a wrong clock must never cause a deletion.
 */
export function applyRetention(
  backups: readonly RetentionCandidate[],
  policy: RetentionPolicy,
  now: Date,
  protect?: string,
): RetentionDecision {
  const ordered = [...backups].sort((a, b) => b.generation - a.generation || b.createdAt.localeCompare(a.createdAt));
  const reasons = new Map<string, string[]>(ordered.map((b) => [b.backupId, []]));
  const add = (id: string, reason: string) => reasons.get(id)!.push(reason);

  ordered.slice(0, policy.keepLast).forEach((b, i) => add(b.backupId, `last ${i + 1} of ${policy.keepLast}`));
  for (const [bucket, count, label] of [[day, policy.keepDaily, 'daily'], [isoWeek, policy.keepWeekly, 'weekly']] as const) {
    const seen = new Set<string>();
    for (const b of ordered) {
      const key = bucket(b.createdAt);
      if (seen.has(key) || seen.size >= count) continue;
      seen.add(key);
      add(b.backupId, `${label} ${key}`);
    }
  }
  for (const b of ordered) {
    if (b.backupId === protect) add(b.backupId, 'just made');
    if (Date.parse(b.createdAt) > now.getTime()) add(b.backupId, 'dated in the future');
  }
  const keep = ordered.filter((b) => reasons.get(b.backupId)!.length > 0).map((b) => ({ backupId: b.backupId, reasons: reasons.get(b.backupId)! }));
  const remove = ordered
    .filter((b) => reasons.get(b.backupId)!.length === 0)
    .map((b) => ({ backupId: b.backupId, reason: `generation ${b.generation} is outside the policy (keepLast ${policy.keepLast}, keepDaily ${policy.keepDaily}, keepWeekly ${policy.keepWeekly})` }));
  return { keep, remove };
}
