import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CofferError, EXIT } from './errors.js';

/** Whether a process with this pid exists (one of another user's too). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One coffer process per config at a time (daemon or backup). The lock file holds the owner's
 * pid; a lock left by a process that died (kill -9) is taken over.
 */
export async function acquireLock(stateDir: string): Promise<() => Promise<void>> {
  await mkdir(stateDir, { recursive: true });
  const path = join(stateDir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new CofferError('LOCKED', `another coffer process (pid ${pid}) is already running for this config`, EXIT.failure);
      }
      await unlink(path).catch(() => {});
    }
  }
  throw new CofferError('LOCKED', `could not take the lock ${path}`, EXIT.failure);
}
