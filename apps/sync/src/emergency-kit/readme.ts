import { setupNotes, type KitSetup } from './setup-notes.js';

/** README.txt of an emergency kit: what it is, how to keep it, how to restore with it. */
export function kitReadme(keyId: string, setup?: KitSetup): string {
  return `COFFER EMERGENCY KIT (backup key ${keyId})
=====================================================

This folder restores your Coffer backups without Coffer, without node, without the internet
once you have a copy of your backups: it needs only a POSIX shell, \`age\`, \`tar\` and coreutils
(and \`gzip\` for sources backed up with \`compression: gzip\`).

  identity.txt  the age identity derived from your backup key. SECRET: anyone holding it can
                read every backup made with this key. Mode 0600.
  restore.sh    the restore script (POSIX sh).
  README.txt    this file.

KEEP IT OFFLINE, BESIDE THE KEY: on the USB stick or in the safe where the printed backup key is,
never in the cloud folder your backups go to. Whoever holds this folder holds your backups.

1. Get a local copy of a destination (the folder that holds "coffer/")
--------------------------------------------------------------------------
  local / iCloud / Dropbox / OneDrive destination: use its folder as it is.

  S3 (bucket BUCKET, prefix PREFIX from the config; no prefix: leave it out):
    aws s3 sync s3://BUCKET/PREFIX ./copy

  Google Drive, a named folder (config "folder: NAME"), with an rclone remote "drive"
  whose scope can see it (scope drive or drive.readonly):
    rclone copy drive:NAME ./copy

  Google Drive, the hidden app-data folder (the default, "folder: appDataFolder"):
  only the OAuth client Coffer used can see it, so give rclone that client (the client ID and
  secret from the client JSON you passed to "coffer auth drive") and the app-data scope:
    rclone config create coffer-appdata drive client_id=CLIENT_ID client_secret=CLIENT_SECRET \\
      scope=drive.appfolder root_folder_id=appDataFolder
    rclone copy coffer-appdata: ./copy
  (one-off flags work too: --drive-client-id, --drive-client-secret,
  --drive-scope drive.appfolder, --drive-root-folder-id appDataFolder.)
  Drive object names contain "/": rclone writes them as flat files named "coffer／..."
  (a full-width slash). restore.sh reads that layout as well.

  A copy of only some backups works if it has the whole coffer/SOURCE/ folder (single-file
  backups) or the whole coffer/sXXXXXXXX.../ folder (chunked backups: backups/ and chunks/).

2. Restore
----------
    sh restore.sh ./copy SOURCE ./restored               # the newest backup of SOURCE
    sh restore.sh ./copy SOURCE ./restored BACKUP_ID     # a named one

  SOURCE is the source's name in the config (for example "chats"). ./restored must not exist or
  be empty; the backup is extracted beside it first and moved into place only when every object
  decrypted and every chunk matched its manifest. On any failure nothing is left behind and one
  line says why. Backup ids start with their UTC time: 20261204T173837Z-... is 4 Dec 2026 17:38:37.

  Single-file backups also restore by hand:
    age -d -i identity.txt copy/coffer/SOURCE/BACKUP_ID.age | tar -x
    age -d -i identity.txt copy/coffer/SOURCE/BACKUP_ID.age | gunzip | tar -x   # gzip sources

What this kit cannot check: it trusts any backup that decrypts with identity.txt. Coffer also
checks each backup's authenticated metadata (the "coffer" stanza's MAC) and, with a vault, that
no older backup was put back in place of the newest; prefer "coffer restore" when you can.
${setup ? `\n${setupNotes(setup)}` : ''}`;
}
