import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { checksumOf } from '@coffer/storage';
import type { Destination } from '../destinations.js';
import { CofferError, EXIT } from '../errors.js';
import { sha256Of } from '../pipeline/verify.js';

/**
 * Stores a small object held in memory (a chunk, a manifest, a reference list) and checks that
 * the provider stored exactly those bytes: its own checksum, else the object read back. An object
 * that fails the check is removed: its name was not in use (SPEC §13).
 */
export async function putVerified(destination: Destination, key: string, bytes: Buffer, signal?: AbortSignal): Promise<void> {
  const stored = await destination.backend.put(key, Readable.from([bytes]), { size: bytes.length, signal });
  const fail = (why: string) => new CofferError('VERIFY', `destination ${destination.name}: upload verification of ${key} failed: ${why}`, EXIT.failure);
  let problem: string | undefined;
  if (stored.size !== bytes.length) problem = `provider stored ${stored.size} bytes, ${bytes.length} were sent`;
  else if (stored.checksum) {
    if (stored.checksum.value !== checksumOf(stored.checksum.algorithm, bytes)) problem = `provider ${stored.checksum.algorithm} differs from the bytes sent`;
  } else if ((await sha256Of(await destination.backend.get(key))) !== createHash('sha256').update(bytes).digest('hex')) {
    problem = 'the object read back differs from the bytes sent';
  }
  if (problem) {
    await destination.backend.delete(key).catch(() => {});
    throw fail(problem);
  }
}
