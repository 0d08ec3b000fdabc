import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CofferError, EXIT } from '../errors.js';

/**
 * Removes a failed restore's temporary folder. The extractor may still finish writes it had in
 * flight when the stream failed, so retry until the folder stays gone.
 */
async function removeFully(path: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await rm(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }).catch(() => {});
    await new Promise((r) => setTimeout(r, 25));
    if (!existsSync(path)) return;
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
    await removeFully(temp);
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

/**
 * Passes a plain tar through, and gunzips a compressed one (gzip magic 1f 8b first; a tar starts
 * with an entry name, never with those bytes). Zeros of Padmé padding after the gzip member are
 * ignored by zlib.
 */
export async function* gunzipIfCompressed(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  async function* all() {
    yield first.value as Buffer;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  }
  if (first.value[0] === 0x1f && first.value[1] === 0x8b) yield* Readable.from(all()).pipe(createGunzip()) as AsyncIterable<Buffer>;
  else yield* all();
}

