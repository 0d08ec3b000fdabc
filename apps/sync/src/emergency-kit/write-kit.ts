import { chmod, mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyMaterial } from '@coffer/crypto';
import { CofferError, EXIT } from '../errors.js';
import { writeSecretFile } from '../keys.js';
import { ageIdentityText } from './identity-text.js';
import { kitReadme } from './readme.js';
import type { KitSetup } from './setup-notes.js';

/** The files of a kit; only these are replaced by --force. */
export const KIT_FILES = ['identity.txt', 'restore.sh', 'README.txt'] as const;

/**
 * The POSIX sh restore script, shipped beside the code that reads it: src/emergency-kit/ for the
 * sources, dist/emergency-kit/ and dist/bundle/ (scripts/bundle.mjs copies it) for the build.
 */
async function restoreScript(): Promise<string> {
  const url = new URL('./restore.sh', import.meta.url);
  try {
    return await readFile(url, 'utf8');
  } catch (err) {
    throw new CofferError('INSTALL', `cannot read the emergency restore script ${url.pathname}: ${(err as NodeJS.ErrnoException).code} (a broken installation)`, EXIT.failure);
  }
}

/** An existing DIR must be an empty folder unless `force`; otherwise it is created. */
async function prepareDir(dir: string, force: boolean): Promise<void> {
  let entries: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw new CofferError('USAGE', `${dir} exists and is not a folder`, EXIT.usage);
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (mkdirErr) {
      throw new CofferError('KIT', `cannot create ${dir}: ${(mkdirErr as NodeJS.ErrnoException).code}`, EXIT.failure);
    }
    return;
  }
  if (entries.length > 0 && !force) {
    throw new CofferError('USAGE', `${dir} is not empty; pass --force to write the kit into it anyway (its ${KIT_FILES.join(', ')} are replaced)`, EXIT.usage);
  }
  // The folder holds a secret: only its owner may list it, whoever created it.
  await chmod(dir, 0o700);
  for (const name of KIT_FILES) await rm(join(dir, name), { force: true });
}

/** Creates `path` with `mode` (never over an existing file) and syncs it. */
async function writeNew(path: string, text: string, mode: number): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes the emergency kit into `dir` (created 0700): identity.txt (0600, the age identity),
 * restore.sh and README.txt. Everything a person needs to restore with stock `age` and `tar`.
 */
export async function writeEmergencyKit(dir: string, material: KeyMaterial, options: { force?: boolean; setup?: KitSetup } = {}): Promise<void> {
  const script = await restoreScript();
  await prepareDir(dir, options.force === true);
  await writeSecretFile(join(dir, 'identity.txt'), ageIdentityText(material));
  await writeNew(join(dir, 'restore.sh'), script, 0o700);
  await writeNew(join(dir, 'README.txt'), kitReadme(material.keyId, options.setup), 0o600);
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
