import type { WriteOnlyKey } from '@coffer/crypto';
import { readCatalog, type BackupRecord } from '../catalog.js';
import { chunkedLayout } from '../chunked/layout.js';
import { readObject } from '../chunked/read-object.js';
import { parseRefs } from '../chunked/refs.js';
import type { Destination } from '../destinations.js';
import { CofferError, EXIT } from '../errors.js';
import { loadKey } from '../keys.js';
import { contextFor, destinationsFor, type GlobalOptions } from './context.js';

export async function listCommand(options: GlobalOptions & { config?: string; destination?: string; source?: string; json?: boolean; keyFile?: string }): Promise<number> {
  const ctx = contextFor(options.config, options);
  const key = await loadKey(options.keyFile ?? ctx.config.key.file, (m) => ctx.log.warn(m));
  const rows = [];
  const otherKeys = new Set<string>();
  let failed = false;
  for (const destination of await destinationsFor(ctx, options.destination)) {
    try {
      const { backups, problems } = await readCatalog(destination, key.material, options.source);
      for (const p of problems) {
        if (p.keyId) otherKeys.add(p.keyId);
        const why = { WRONG_KEY: 'made with another key', CORRUPTED: 'damaged or tampered with', MISPLACED: 'stored under the wrong name' }[p.problem];
        ctx.log.warn(`destination ${p.destination}: ${p.objectKey}: ${why}; ignored`);
      }
      for (const b of backups) rows.push({ ...b, ...(await sizes(destination, key.material, b)) });
    } catch (err) {
      failed = true;
      ctx.log.error(`destination ${destination.name}: ${(err as Error).message}`);
    }
  }
  // Backups exist, but none this key made: say so, and which keys made them (a script must not read "none").
  if (rows.length === 0 && !failed && otherKeys.size > 0) {
    throw new CofferError('WRONG_KEY', `no backup${options.source ? ` of ${options.source}` : ''} was made with key ${key.material.keyId}; the destinations hold backups made with key${otherKeys.size > 1 ? 's' : ''} ${[...otherKeys].sort().join(', ')}`, EXIT.wrongKey);
  }
  if (options.json) {
    const out = rows.map((b) => ({ id: b.backupId, source: b.source, destination: b.destination, createdAt: b.createdAt, generation: b.generation, size: b.size, keyId: b.keyId, format: b.format === 2 ? 'chunked' : 'single', objects: b.objects, uploaded: b.uploaded }));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else if (rows.length === 0 && !failed) {
    process.stdout.write('no backups\n');
  } else {
    const table = [['ID', 'SOURCE', 'DESTINATION', 'CREATED', 'GEN', 'SIZE']];
    for (const b of rows) table.push([b.backupId, b.source, b.destination, b.createdAt, String(b.generation), String(b.size)]);
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    process.stdout.write(`${table.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')}\n`);
  }
  return failed ? 1 : 0;
}

/**
 * How many objects a backup is, and the bytes making it sent: a single-file backup is one object
 * sent whole; a chunked one says both in its reference list (SPEC §11), or null if that does not verify.
 */
async function sizes(destination: Destination, key: WriteOnlyKey, b: BackupRecord): Promise<{ objects: number | null; uploaded: number | null }> {
  if (b.format !== 2) return { objects: 1, uploaded: b.size };
  if (!key.chunkKeys) return { objects: null, uploaded: null };
  const layout = chunkedLayout(key.chunkKeys, b.source);
  try {
    const refs = parseRefs(key.chunkKeys, await readObject(destination, layout.refs(b.backupId)), { keyId: b.keyId, sourceId: layout.sourceId, backupId: b.backupId, generation: b.generation });
    return { objects: refs.ids.length + 2, uploaded: refs.uploaded };
  } catch {
    return { objects: null, uploaded: null };
  }
}
