import { chmod, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CofferError, EXIT } from '../errors.js';

/**
 * Removes a failed restore's temporary folder. A restored read-only folder (mode 0555) cannot be
 * emptied by its owner, so on a refusal every folder is made writable and removal is tried again.
 */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch {
    const folders = [path];
    for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) {
      if (entry.isDirectory()) folders.push(join(entry.parentPath, entry.name));
    }
    for (const folder of folders) await chmod(folder, 0o700);
    await rm(path, { recursive: true, force: true });
  }
}

async function isEmptyDir(path: string): Promise<boolean | null> {
  try {
    if (!(await stat(path)).isDirectory()) return false;
    return (await readdir(path)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Runs `extract` into a temporary folder beside `target` and moves it into place only when
 * `extract` resolves, i.e. after the whole backup authenticated. On failure `target` is untouched.
 */
export async function restoreInto(target: string, force: boolean, extract: (tempDir: string) => Promise<void>): Promise<void> {
  const dir = resolve(target);
  const empty = await isEmptyDir(dir);
  if (empty === false && !force) {
    throw new CofferError('RESTORE_TARGET_NOT_EMPTY', `${target} is not empty; choose an empty folder or pass --force to replace it`, EXIT.failure);
  }
  const temp = await mkdtemp(join(dirname(dir), `.${basename(dir)}.coffer-restore-`));
  try {
    // mkdtemp makes 0700; the restored folder gets the usual mode for a new folder instead.
    const mask = process.umask();
    await chmod(temp, 0o777 & ~mask);
    await extract(temp);
  } catch (err) {
    await removeTree(temp).catch(() => {});
    throw err;
  }
  if (empty === true) await rm(dir, { recursive: true });
  if (empty === false) {
    // --force: swap, then remove the old content, so a crash leaves one complete tree in place.
    const old = `${temp}.old`;
    await rename(dir, old);
    await rename(temp, dir);
    await removeTree(old);
  } else {
    await rename(temp, dir);
  }
}
