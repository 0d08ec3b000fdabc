/** `9.1 MB`, `1.07 GB`: decimal units with three significant digits, for summary lines. */
export function bytesText(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  const power = Math.min(units.length, Math.floor(Math.log10(n) / 3));
  return `${(n / 1000 ** power).toPrecision(3)} ${units[power - 1]}`;
}
