import { setFlagsFromString } from 'node:v8';

/**
 * Gives the heap room to grow: the next full collection waits until the heap is 4× what survived
 * the last one. V8 otherwise sizes that limit by how busy the JavaScript thread looks, and ours
 * mostly waits for the thread pool, so after a few collections the limit sat barely above the
 * ~11 MiB that is live, and the young generation's 16 MiB no longer fitted under it: each young
 * collection became a full one (55 of them in one 1 GiB restore). Mixed bench set on tmpfs:
 * restore 1.68 -> 1.20 s, backup 1.30 -> 1.15 s, peak RSS within 10 MiB. Large trees then
 * switch to `keepHeapTight`.
 */
export function giveHeapRoom(): void {
  setFlagsFromString('--heap-growing-percent=300');
}

/** From this many entries on, the scan keeps the heap tight (below). */
export const TIGHT_HEAP_ENTRIES = 25_000;

/** From this many entries on, the scan sends the rest of a backup's reads through the thread pool (`AdaptiveIo.preferPool`). */
export const MANY_ENTRIES = 50_000;

/**
 * Holds the JavaScript heap near what is live. A backup of many small files makes short-lived
 * objects that V8 promotes faster than it collects them, and by default it lets the old generation
 * grow to several times what survived the last full collection. At 1.4× (V8 reads this flag at
 * every collection, so setting it at run time works), 200,000 and 1,000,000 files (tmpfs) peak at
 * ~152 MiB instead of ~172 MiB, for ~12% more time: margin under the 200 MiB we promise, on
 * machines whose allocators keep more than this one's. With few, large files it only costs time,
 * so it is applied to large trees alone.
 */
export function keepHeapTight(): void {
  setFlagsFromString('--heap-growing-percent=40');
}

/** Puts back V8's own heap sizing, undoing the two functions above. */
export function restoreHeapDefaults(): void {
  setFlagsFromString('--heap-growing-percent=0');
}
