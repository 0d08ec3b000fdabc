import { Command, CommanderError } from 'commander';
import { CofferCryptoError } from '@coffer/crypto';
import { isStorageError } from '@coffer/storage';
import { quietSdkNotices } from './env.js';
import { cofferVersion } from './daemon/version.js';
import { CofferError, EXIT } from './errors.js';
import { giveHeapRoom } from './heap.js';

quietSdkNotices();
giveHeapRoom();

const CONFIG_HELP = 'config file (default: $COFFER_CONFIG, else $XDG_CONFIG_HOME/coffer/coffer.yaml)';

const program = new Command('coffer')
  .description('End-to-end encrypted backups you can restore with standard tools')
  .option('--debug', 'print stack traces and storage operations')
  .option('--json-logs', 'structured JSON logs on stderr')
  .addHelpText('after', '\nExit codes: 0 success, 1 a run failed, 2 bad usage or configuration, 12 wrong key or password,\n130 interrupted (Ctrl-C, SIGTERM).')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'coffer: ')) });

type Action = (...args: never[]) => Promise<number>;
/**
 * A command's code loads when it runs: a backup should not pay at start-up for the daemon's
 * metrics, the restore path or the vault's password prompts.
 */
const lazy =
  <M>(load: () => Promise<M>, pick: (module: M) => Action): Action =>
  async (...args) =>
    pick(await load())(...args);
const globals = () => program.opts<{ debug?: boolean; jsonLogs?: boolean }>();
const run =
  (action: Action) =>
  async (...args: unknown[]) => {
    // commander passes (positional..., options, command); merge the global flags in.
    const options = { ...globals(), ...(args.at(-2) as object) };
    process.exitCode = await (action as (...a: unknown[]) => Promise<number>)(...args.slice(0, -2), options);
  };

program.version(`coffer ${cofferVersion()}`, '-V, --version', 'print the version');
program
  .command('version')
  .description('print the version')
  .action(() => void process.stdout.write(`coffer ${cofferVersion()}\n`));

program
  .command('init')
  .description('generate a backup key and write it to the key file (or enroll it in the vault)')
  .option('-c, --config <file>', CONFIG_HELP)
  .option('--vault', 'escrow the key in the vault behind a password; keep only a write-only key here')
  .option('--password-file <file>', 'read the new vault password from this file (else COFFER_PASSWORD_FILE, else a prompt)')
  .action(run(lazy(() => import('./commands/init.js'), (m) => m.initCommand)));

program
  .command('backup')
  .description('back up every source to every destination, verify, then rotate')
  .option('-c, --config <file>', CONFIG_HELP)
  .option('--source <name>', 'only this source')
  .option('--destination <name>', 'only this destination')
  .action(run(lazy(() => import('./commands/backup.js'), (m) => m.backupCommand)));

program
  .command('list')
  .description('list the backups on each destination')
  .option('-c, --config <file>', CONFIG_HELP)
  .option('--destination <name>', 'only this destination')
  .option('--source <name>', 'only this source')
  .option('--key-file <file>', 'key file (default: the config’s)')
  .option('--json', 'print a JSON array')
  .action(run(lazy(() => import('./commands/list.js'), (m) => m.listCommand)));

/** The options restore and verify share: which backup, and how to get the key that reads it. */
function withReadOptions(command: Command): Command {
  return command
    .option('--source <name>', 'which source')
    .option('--destination <name>', 'only this destination')
    .option('--key-file <file>', 'the backup key file (default: the config’s)')
    .option('--vault', 'unlock the backup key from the vault with the password, and check freshness')
    .option('--password-file <file>', 'read the vault password from this file');
}

const restore = program
  .command('restore')
  .description('download, authenticate and extract a backup into DIR')
  .argument('[id]', 'backup id, or "latest"', 'latest')
  .option('-c, --config <file>', CONFIG_HELP)
  .requiredOption('--to <dir>', 'where to restore')
  .option('--force', 'replace a non-empty DIR')
  .option('--keep-special-bits', 'restore setuid and setgid bits too (cleared by default: a backup could plant setuid programs)')
  .option('--accept-older', 'for latest: restore an older backup if the newest cannot be read in full (a rollback; warned)');
withReadOptions(restore).action(run(lazy(() => import('./commands/restore.js'), (m) => m.restoreCommand)));

const verify = program
  .command('verify')
  .description('download and authenticate a backup completely, writing nothing')
  .argument('[id]', 'backup id, or "latest"', 'latest')
  .option('-c, --config <file>', CONFIG_HELP);
withReadOptions(verify).action(run(lazy(() => import('./commands/restore.js'), (m) => m.verifyCommand)));

const key = program.command('key').description('export keys');
key
  .command('export-age')
  .description('print the age identity derived from the backup key (or write it to a 0600 file with --out)')
  .option('--key-file <file>', 'the backup key file')
  .option('--config <file>', 'use the config’s key file')
  .option('--out <file>', 'write the identity to this new file, mode 0600, instead of printing it')
  .option('--force', 'with --out: replace the file if it exists')
  .action(run(lazy(() => import('./commands/key.js'), (m) => m.exportAgeCommand)));
key
  .command('write-only')
  .description('write a key file that can make backups but not read them')
  .option('--key-file <file>', 'the backup key file')
  .option('--config <file>', 'use the config’s key file')
  .requiredOption('--out <file>', 'where to write the write-only key')
  .action(run(lazy(() => import('./commands/key.js'), (m) => m.writeOnlyCommand)));
key
  .command('emergency-kit')
  .description('write identity.txt, restore.sh and README.txt: restore with only age, tar and sh, no Coffer')
  .option('--key-file <file>', 'the backup key file')
  .option('--config <file>', 'use the config’s key file')
  .requiredOption('--out <dir>', 'the kit’s folder (created 0700)')
  .option('--force', 'write into a non-empty folder, replacing a previous kit')
  .action(run(lazy(() => import('./commands/key.js'), (m) => m.emergencyKitCommand)));

program
  .command('auth')
  .description('authorize access to a provider')
  .command('drive')
  .description('run the OAuth installed-app flow and store the refresh token in the destination’s credentialsFile (0600)')
  .option('-c, --config <file>', CONFIG_HELP)
  .option('--destination <name>', 'which drive destination')
  .requiredOption('--client-file <file>', 'OAuth client JSON (Desktop app) from Google Cloud Console')
  .option('--timeout <seconds>', 'how long to wait for the browser', '300')
  .action(run(lazy(() => import('./commands/auth-drive.js'), (m) => m.authDriveCommand)));

const vault = program.command('vault').description('the backup key vault');
vault.command('status').description('password tries remaining and the newest anchored backup per source').option('-c, --config <file>', CONFIG_HELP).action(run(lazy(() => import('./commands/vault.js'), (m) => m.vaultStatusCommand)));
vault
  .command('change-password')
  .description('change the vault password; backups need no re-encryption')
  .option('-c, --config <file>', CONFIG_HELP)
  .option('--password-file <file>', 'the current password, from a file')
  .option('--new-password-file <file>', 'the new password, from a file')
  .action(run(lazy(() => import('./commands/vault.js'), (m) => m.vaultChangePasswordCommand)));
vault
  .command('register-key')
  .description('log in once to register this key for signed freshness anchors (accounts and write-only key files from before them)')
  .option('-c, --config <file>', CONFIG_HELP)
  .option('--password-file <file>', 'the vault password, from a file')
  .action(run(lazy(() => import('./commands/vault.js'), (m) => m.vaultRegisterKeyCommand)));

program
  .command('daemon')
  .description('run backups on the configured schedule until SIGINT/SIGTERM')
  .option('-c, --config <file>', CONFIG_HELP)
  .action(run(lazy(() => import('./commands/daemon.js'), (m) => m.daemonCommand)));

/** One line on stderr that names the problem; a stack trace only with --debug. */
function report(err: unknown): number {
  const debug = process.argv.includes('--debug');
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT.usage;
  let message: string;
  let code: number = EXIT.failure;
  if (err instanceof CofferError) {
    message = err.message;
    code = err.exitCode;
  } else if (err instanceof CofferCryptoError || isStorageError(err)) {
    // By brand, not instanceof: provider packages throw StorageErrors of their own copy of
    // @coffer/storage, while this bundle inlines another.
    message = err.message;
  } else {
    message = `internal error: ${(err as Error)?.message ?? String(err)} (run with --debug for details)`;
  }
  for (const line of message.split('\n')) process.stderr.write(`coffer: ${line}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return code;
}

let settled = false;
// Safety net: if a bug ever leaves the command's promise pending with nothing left to do, Node
// would exit 0 without a word. That must read as a failure, never as a silent success.
process.on('beforeExit', () => {
  if (settled) return;
  settled = true;
  process.stderr.write('coffer: internal error: the operation stalled before finishing; nothing was reported as done\n');
  process.exitCode = 70;
});
// Last resort: an error that escaped every handler (a bug) still ends the run with one line and
// a failing exit code, not with Node's stack trace. Uploads in flight are left as leftovers that
// the next run cleans up; no backup is listed until it is complete.
const crash = (err: unknown) => {
  settled = true;
  report(err);
  process.exit(70);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
program
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.exitCode = report(err);
  })
  .finally(() => {
    settled = true;
  });
