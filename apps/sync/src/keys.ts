import { open, readFile } from 'node:fs/promises';
import { CofferCryptoError, parseKeyFile, type KeyMaterial, type LoadedKey } from '@coffer/crypto';
import { CofferError, EXIT } from './errors.js';

/** Loads a key file; errors say what is wrong with the file, never what is in it. */
export async function loadKey(path: string): Promise<LoadedKey> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file (run `coffer init` first, or pass --key-file)' : code === 'EACCES' ? 'permission denied' : code;
    throw new CofferError('KEY_FILE', `cannot read key file ${path}: ${why}`, EXIT.failure);
  }
  try {
    return parseKeyFile(text);
  } catch (err) {
    if (err instanceof CofferCryptoError) throw new CofferError('KEY_FILE', `key file ${path}: ${err.message}`, EXIT.failure);
    throw err;
  }
}

/** Restore and verify need the identity, which a write-only key file does not hold. */
export async function loadReadingKey(path: string): Promise<KeyMaterial> {
  const key = await loadKey(path);
  if (key.kind !== 'full') {
    throw new CofferError(
      'WRITE_ONLY_KEY',
      `key file ${path} is write-only: it can make backups but cannot read them; pass --key-file with the 64-digit backup key`,
      EXIT.failure,
    );
  }
  return key.material;
}

/** Creates a secret file with mode 0600, refusing to overwrite an existing one. */
export async function writeSecretFile(path: string, text: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CofferError('KEY_EXISTS', `${path} already exists; refusing to overwrite a key`, EXIT.failure);
    throw new CofferError('KEY_FILE', `cannot create ${path}: ${code === 'ENOENT' ? 'its folder does not exist' : code}`, EXIT.failure);
  }
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
