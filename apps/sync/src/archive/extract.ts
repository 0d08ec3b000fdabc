import { chmod, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { x as tarExtract } from 'tar';
import { CofferError, EXIT } from '../errors.js';

/** A tar extractor that refuses, rather than skips, anything unsafe. */
export function safeExtractor(dir: string): Writable {
  return tarExtract({
    cwd: dir,
    // strict: entries with absolute paths, `..`, or that would pass through a symlink make the
    // whole restore fail instead of being silently skipped (node-tar's checks, made fatal).
    strict: true,
    preservePaths: false,
    preserveOwner: false,
    unlink: false,
  }) as unknown as Writable;
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
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  if (empty === true) await rm(dir, { recursive: true });
  if (empty === false) {
    // --force: swap, then remove the old content, so a crash leaves one complete tree in place.
    const old = `${temp}.old`;
    await rename(dir, old);
    await rename(temp, dir);
    await rm(old, { recursive: true, force: true });
  } else {
    await rename(temp, dir);
  }
}
