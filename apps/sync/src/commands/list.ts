import { readCatalog } from '../catalog.js';
import { loadKey } from '../keys.js';
import { contextFor, destinationsFor, type GlobalOptions } from './context.js';

export async function listCommand(options: GlobalOptions & { config?: string; destination?: string; json?: boolean; keyFile?: string }): Promise<number> {
  const ctx = contextFor(options.config, options);
  const key = await loadKey(options.keyFile ?? ctx.config.key.file);
  const rows = [];
  let failed = false;
  for (const destination of await destinationsFor(ctx, options.destination)) {
    try {
      const { backups, problems } = await readCatalog(destination, key.material);
      for (const p of problems) {
        const why = { WRONG_KEY: 'made with another key', CORRUPTED: 'damaged or tampered with', MISPLACED: 'stored under the wrong name' }[p.problem];
        ctx.log.warn(`destination ${p.destination}: ${p.objectKey}: ${why}; ignored`);
      }
      rows.push(...backups);
    } catch (err) {
      failed = true;
      ctx.log.error(`destination ${destination.name}: ${(err as Error).message}`);
    }
  }
  if (options.json) {
    const out = rows.map((b) => ({ id: b.backupId, source: b.source, destination: b.destination, createdAt: b.createdAt, generation: b.generation, size: b.size, keyId: b.keyId }));
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
