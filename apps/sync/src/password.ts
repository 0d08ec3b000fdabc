import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CofferError, EXIT, usageError } from './errors.js';

/** Reads one password line from a terminal without echoing it. */
async function prompt(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  process.stderr.write(question);
  muted = true;
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

/**
 * A password from `--password-file`, the file named by COFFER_PASSWORD_FILE, or a terminal
 * prompt without echo (twice when `confirm`). Never from argv: argv is visible to every user.
 */
export async function readPassword(options: { file?: string; what: string; confirm?: boolean }): Promise<string> {
  const file = options.file ?? process.env.COFFER_PASSWORD_FILE;
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new CofferError('PASSWORD', `cannot read password file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, EXIT.usage);
    }
    const password = text.split(/\r?\n/)[0] ?? '';
    if (!password) throw new CofferError('PASSWORD', `password file ${file} is empty`, EXIT.usage);
    return password;
  }
  if (!process.stdin.isTTY) throw usageError(`no ${options.what}: pass --password-file FILE or set COFFER_PASSWORD_FILE (passwords are never taken from the command line)`);
  const first = await prompt(`${options.what[0]!.toUpperCase()}${options.what.slice(1)}: `);
  if (first.length < 8) throw usageError('use a password of at least 8 characters');
  if (options.confirm && (await prompt('Again: ')) !== first) throw usageError('the passwords differ');
  return first;
}
