import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Local memory of the newest generation per source, so a destination that lost backups cannot make us reuse one. */
export interface SyncState {
  readonly sources: Record<string, { generation: number; lastBackupId?: string; lastSuccessAt?: string }>;
}

export async function readState(stateDir: string): Promise<SyncState> {
  try {
    const parsed = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as SyncState;
    return { sources: parsed.sources ?? {} };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { sources: {} };
    throw err;
  }
}

/** Atomic: temp file, fsync, rename. */
export async function writeState(stateDir: string, state: SyncState): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  const temp = join(stateDir, `.state.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, join(stateDir, 'state.json'));
}
