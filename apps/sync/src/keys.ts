import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { CofferCryptoError, parseKeyFile, type KeyMaterial, type LoadedKey } from '@coffer/crypto';
import { CofferError, EXIT } from './errors.js';

/** Says one line on stderr, as the plain logger does: for commands without one. */
const warnOnStderr = (message: string) => void process.stderr.write(`warning: ${message}\n`);

/**
 * Loads a key file; errors say what is wrong with the file, never what is in it. A key file that
 * other users may open (any group or other permission, as ssh checks) is used, with a warning
 * through `warn`: it is a secret (a write-only key too: it makes backups that restore as yours).
 */
export async function loadKey(path: string, warn: (message: string) => void = warnOnStderr): Promise<LoadedKey> {
  let text: string;
  try {
    const handle = await open(path, 'r');
    try {
      const { mode } = await handle.stat();
      if (mode & 0o077 && process.platform !== 'win32') {
        warn(`key file ${path} is open to other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); it is a secret: chmod 600 ${path}`);
      }
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
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
export async function loadReadingKey(path: string, warn?: (message: string) => void): Promise<KeyMaterial> {
  const key = await loadKey(path, warn);
  if (key.kind !== 'full') {
    throw new CofferError(
      'WRITE_ONLY_KEY',
      `key file ${path} is write-only: it can make backups but cannot read them; pass --key-file with the 64-digit backup key`,
      EXIT.failure,
    );
  }
  return key.material;
}

/**
 * Creates a secret file with mode 0600, refusing to overwrite an existing one; with `replace`,
 * an existing file is replaced at once by a new 0600 one (written beside it, then renamed over
 * it), so the secret never sits in a file with the old one's mode. `force` names the option that
 * allows replacing, for the refusal's message.
 */
export async function writeSecretFile(path: string, text: string, options: { replace?: boolean; force?: string } = {}): Promise<void> {
  const target = options.replace ? `${path}.${randomBytes(6).toString('hex')}.tmp` : path;
  let handle;
  try {
    handle = await open(target, 'wx', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CofferError('KEY_EXISTS', `${path} already exists; refusing to overwrite a key${options.force ? ` (pass ${options.force} to replace it)` : ''}`, EXIT.failure);
    throw new CofferError('KEY_FILE', `cannot create ${path}: ${code === 'ENOENT' ? 'its folder does not exist' : code === 'EACCES' ? 'permission denied' : code}`, EXIT.failure);
  }
  try {
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (target !== path) await rename(target, path);
  } catch (err) {
    if (target !== path) await unlink(target).catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    throw new CofferError('KEY_FILE', `cannot write ${path}: ${code === 'EISDIR' ? 'it is a folder' : (code ?? (err as Error).message)}`, EXIT.failure);
  }
}
