/**
 * Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication with
 * PURBs", PETS 2019): rounds a length up so that it leaks O(log log L) bits, with at most ~12%
 * overhead. Backups pad their tar, chunks their payload, manifests their text (SPEC §3, §9, §10).
 */
export function padme(length: number): number {
  if (length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const lastBits = e - s;
  const mask = 2 ** lastBits - 1;
  // Arithmetic instead of bitwise ops: lengths above 2^31 must work.
  return Math.ceil(length / (mask + 1)) * (mask + 1);
}
