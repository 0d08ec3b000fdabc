import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyRetention, isoWeek } from '../src/retention/apply-retention.js';

// Golden files: test/retention/NAME.input.json → NAME.golden.json. Regenerate with
// UPDATE_GOLDEN=1 and review the diff before committing it.
const dir = new URL('./retention/', import.meta.url);
const cases = readdirSync(dir).filter((f) => f.endsWith('.input.json')).map((f) => f.replace('.input.json', ''));

describe('applyRetention goldens', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(6));
  for (const name of cases) {
    it(name, () => {
      const input = JSON.parse(readFileSync(new URL(`${name}.input.json`, dir), 'utf8'));
      const result = applyRetention(input.backups, input.policy, new Date(input.now), input.protect);
      const golden = new URL(`${name}.golden.json`, dir);
      if (process.env.UPDATE_GOLDEN || !existsSync(golden)) writeFileSync(golden, `${JSON.stringify(result, null, 2)}\n`);
      expect(result).toEqual(JSON.parse(readFileSync(golden, 'utf8')));
      // Invariants that hold for every policy:
      expect(result.keep.length + result.remove.length).toBe(input.backups.length);
      if (input.backups.length > 0) expect(result.keep.length).toBeGreaterThanOrEqual(1);
      if (input.protect) expect(result.keep.map((k: { backupId: string }) => k.backupId)).toContain(input.protect);
    });
  }
});

describe('isoWeek', () => {
  it.each([
    ['2026-01-01T00:00:00Z', '2026-W01'], // a Thursday
    ['2025-12-29T00:00:00Z', '2026-W01'], // Monday of 2026's first week
    ['2026-12-24T00:00:00Z', '2026-W52'],
    ['2026-12-26T00:00:00Z', '2026-W52'],
    ['2027-01-03T00:00:00Z', '2026-W53'], // 2026 has 53 weeks
    ['2027-01-04T00:00:00Z', '2027-W01'],
    ['2027-01-15T00:00:00Z', '2027-W02'],
  ])('%s is %s', (date, week) => expect(isoWeek(date)).toBe(week));
});
