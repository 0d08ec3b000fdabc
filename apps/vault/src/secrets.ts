import { open, readFile, stat } from 'node:fs/promises';
import * as opaque from '@serenity-kit/opaque';

/** Reads the OPAQUE server setup, creating it (mode 0600, never overwritten) on first start. */
export async function loadServerSetup(path: string): Promise<string> {
  await opaque.ready;
  try {
    const s = await stat(path);
    if ((s.mode & 0o077) !== 0) throw new Error(`${path} must be readable by its owner only (chmod 600)`);
    const text = (await readFile(path, 'utf8')).trim();
    if (!text) throw new Error(`${path} is empty`);
    return text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const setup = opaque.server.createSetup();
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.writeFile(`${setup}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return setup;
}
