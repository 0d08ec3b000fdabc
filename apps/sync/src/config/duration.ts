const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "90s", "15m", "6h", "1d", "1h30m" into milliseconds; null if malformed. */
export function parseDuration(text: string): number | null {
  const parts = text.trim().match(/^(\d+[smhd])+$/) ? text.trim().match(/\d+[smhd]/g) : null;
  if (!parts) return null;
  return parts.reduce((total, p) => total + Number(p.slice(0, -1)) * UNITS[p.at(-1)!]!, 0);
}
