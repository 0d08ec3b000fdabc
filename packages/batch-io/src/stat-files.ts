import { getSystemErrorName } from 'node:util';
import type { BatchIoAddon } from './addon.js';

/** What lstat says of one entry of a folder. */
export type FileStat =
  /** `mode` is st_mode: the type bits and the permissions. */
  | { readonly ok: true; readonly mode: number; readonly size: number; readonly mtimeMs: number }
  | { readonly ok: false; readonly code: string };

const FIELDS = 4;

/**
 * lstat of each of `names` (entries of `dir`, as readdir gives them) in one thread-pool job,
 * looked up from the folder rather than through each full path. Rejects only on bad arguments;
 * each entry's failure is its own result.
 */
export async function statFiles(addon: BatchIoAddon, dir: string, names: readonly string[]): Promise<FileStat[]> {
  if (names.length === 0) return []; // nothing to queue a job for
  const results = new Float64Array(names.length * FIELDS);
  await addon.statFiles(dir, names.join('\0'), names.length, results);
  return names.map((_, i): FileStat => {
    const status = results[i * FIELDS]!;
    if (status < 0) return { ok: false, code: getSystemErrorName(status) };
    // As Node computes Stats.mtimeMs, so that it compares equal to an fstat's during the read.
    const mtimeMs = results[i * FIELDS + 2]! * 1e3 + results[i * FIELDS + 3]! / 1e6;
    return { ok: true, mode: status, size: results[i * FIELDS + 1]!, mtimeMs };
  });
}
