import { chmod, lstat, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CofferError, EXIT, systemErrorText } from '../errors.js';
import { alive } from '../lock.js';
import type { Logger } from '../log.js';

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

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A restore into DIR works in `.DIR.coffer-restore-PID-XXXXXX` beside it (PID: the restoring
 * process; XXXXXX: mkdtemp's), and with --force moves DIR's old content to that name plus `.old`
 * before it removes it. A restore killed (kill -9, power loss) leaves them behind; the next
 * restore into DIR removes them, and nothing else: only folders (not symlinks) by exactly these
 * names, owned by this user, whose process is gone. If the restore was killed between its two
 * renames (DIR missing, the new tree and the old content both beside it), the old content is
 * moved back to DIR instead of removed: it is the only copy of what DIR held.
 */
async function cleanLeftovers(dir: string, log?: Logger): Promise<void> {
  const parent = dirname(dir);
  const pattern = new RegExp(`^\\.${escapeRegExp(basename(dir))}\\.coffer-restore-(\\d+)-[A-Za-z0-9]{6}(\\.old)?$`);
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return; // a missing parent fails the restore next, with its own message
  }
  // Old content first: whether it goes back depends on the new tree beside it, removed after.
  for (const name of [...names].sort((a, b) => Number(b.endsWith('.old')) - Number(a.endsWith('.old')))) {
    const m = pattern.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    const path = join(parent, name);
    const s = await lstat(path).catch(() => null);
    if (!s?.isDirectory() || s.uid !== process.getuid?.()) continue;
    // Killed between the two renames: DIR is missing, the new tree and the old content beside it.
    if (m[2] && names.includes(name.slice(0, -'.old'.length)) && (await lstat(dir).catch(() => null)) === null) {
      await rename(path, dir);
      log?.warn(`restore: put back the content of ${dir} that an interrupted restore (pid ${pid}) had moved aside to ${name}`);
      continue;
    }
    await removeTree(path);
    log?.info(`restore: removed ${name}, left by an interrupted restore (pid ${pid})`);
  }
}

/**
 * Runs `extract` into a temporary folder beside `target` and moves it into place only when
 * `extract` resolves, i.e. after the whole backup authenticated. On failure `target` is untouched.
 * What a killed restore into `target` left behind is cleaned up first (`cleanLeftovers`).
 */
export async function restoreInto(target: string, force: boolean, extract: (tempDir: string) => Promise<void>, log?: Logger): Promise<void> {
  const dir = resolve(target);
  await cleanLeftovers(dir, log);
  const empty = await isEmptyDir(dir);
  if (empty === false && !force) {
    throw new CofferError('RESTORE_TARGET_NOT_EMPTY', `${target} is not empty; choose an empty folder or pass --force to replace it`, EXIT.failure);
  }
  let temp: string;
  try {
    temp = await mkdtemp(join(dirname(dir), `.${basename(dir)}.coffer-restore-${process.pid}-`));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'its parent folder does not exist' : systemErrorText(e);
    throw new CofferError('RESTORE_TARGET', `cannot restore into ${target}: ${why}`, EXIT.failure, { cause: err });
  }
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
    // --force: swap, then remove the old content, so a crash leaves one complete tree in place
    // (or, between the two renames, the old one beside it, which the next restore puts back).
    const old = `${temp}.old`;
    await rename(dir, old);
    await rename(temp, dir);
    await removeTree(old);
  } else {
    await rename(temp, dir);
  }
}
