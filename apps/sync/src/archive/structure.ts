import { CofferError, EXIT } from '../errors.js';
import type { DecodedHeader } from './tar-headers.js';

/** The most bytes one name (a path component) may have: NAME_MAX of Linux's file systems. */
export const NAME_MAX = 255;
/** The most bytes a path given to the system may have: PATH_MAX, less its terminating NUL. */
export const PATH_MAX = 4095;

/** What an entry becomes in a restore; null for what is not restored (FIFOs, devices, hard links). */
export type EntryKind = 'file' | 'folder' | 'symlink';

export function kindOf(type: DecodedHeader['type']): EntryKind | null {
  if (type === 'file' || type === 'contiguous-file') return 'file';
  if (type === 'directory') return 'folder';
  if (type === 'symlink') return 'symlink';
  return null;
}

const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

/**
 * An entry name as a path relative to the restore folder, or null if it would land outside it:
 * absolute, `..` anywhere, or a NUL byte. `.` segments and trailing slashes are dropped.
 */
export function safeRelative(name: string): string | null {
  if (name.includes('\0') || name.startsWith('/')) return null;
  if (!name.includes('//') && !name.endsWith('/') && !DOT_SEGMENT.test(name)) return name; // plain already: most names
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return null;
  return parts.join('/');
}

/** A name as messages show it: quoted and escaped (one line, whatever it holds), cut in the middle past 80 characters. */
export function shown(name: string): string {
  const chars = [...name];
  return JSON.stringify(chars.length > 80 ? `${chars.slice(0, 50).join('')}…${chars.slice(-20).join('')}` : name);
}

const refuse = (message: string) => new CofferError('UNSAFE_ARCHIVE', `the backup holds ${message}`, EXIT.failure);

/** A folder no entry names, only implied by the entries inside it. */
const IMPLIED = 'implied';

/**
 * The structural rules a backup's entries must follow to be restored, checked one entry at a
 * time, before anything is written, by `restore` and by `verify` alike, so that a backup that
 * verifies restores. Every rule is one a restore would otherwise break on, or break through:
 * - a name stays inside the restore folder (no absolute path, no `..`, no NUL);
 * - each name once: no entry twice, no file and folder (or symlink) with one name, nothing
 *   inside a file, nothing inside a symlink (nothing is ever written through one); only a
 *   folder may be `.`, the restore folder itself;
 * - names fit the file system: at most NAME_MAX bytes a component, and the path at most
 *   `room` bytes (PATH_MAX; a restore passes what is left under its folder's own path);
 * - a symlink's target is not empty and fits PATH_MAX.
 * Entries that are not restored (FIFOs, devices, hard links) need only a safe name.
 * The first entry to break a rule ends the check with an UNSAFE_ARCHIVE error naming it as the
 * backup stores it. Every name restored is kept until the end (some 100 bytes each).
 */
export class ArchiveStructure {
  private readonly names = new Map<string, EntryKind | typeof IMPLIED>();

  /**
   * `room`: bytes a path inside the restore folder may have; `under`: that folder, for the
   * message when a path fits PATH_MAX but not under it.
   */
  constructor(
    private readonly room = PATH_MAX,
    private readonly under?: string,
  ) {}

  /** Checks one entry; returns its path relative to the restore folder, or null if it is not restored. */
  add(header: Pick<DecodedHeader, 'name' | 'type' | 'linkname'>): string | null {
    const name = header.name;
    const rel = safeRelative(name);
    if (rel === null) throw refuse(`an entry that would land outside the restore folder: ${shown(name)}`);
    const kind = kindOf(header.type);
    if (kind === null) return null;
    if (rel === '' && kind !== 'folder') throw refuse(`a ${kind} named ${shown(name)} (the restore folder itself)`);

    const bytes = Buffer.byteLength(rel);
    if (bytes > NAME_MAX) {
      for (const part of rel.split('/')) {
        const partBytes = Buffer.byteLength(part);
        if (partBytes > NAME_MAX) throw refuse(`${shown(name)}: one name in it is ${partBytes} bytes long, more than the ${NAME_MAX} a file system allows`);
      }
    }
    if (bytes > PATH_MAX) throw refuse(`${shown(name)}: its path is ${bytes} bytes long, more than the ${PATH_MAX} a path may have`);
    if (bytes > this.room) throw refuse(`${shown(name)}: its path is ${bytes} bytes long, too long to restore under ${this.under} (a path may have ${PATH_MAX} bytes); restore into a folder with a shorter path`);
    if (kind === 'symlink') {
      const target = header.linkname ?? '';
      if (target === '') throw refuse(`the symlink ${shown(name)} with an empty target`);
      if (target.includes('\0')) throw refuse(`the symlink ${shown(name)} with a NUL byte in its target`);
      const targetBytes = Buffer.byteLength(target);
      if (targetBytes > PATH_MAX) throw refuse(`the symlink ${shown(name)} whose target is ${targetBytes} bytes long, more than the ${PATH_MAX} a link may hold`);
    }

    const before = this.names.get(rel);
    if (before === kind) throw refuse(`${shown(name)} twice`);
    if (before !== undefined && !(before === IMPLIED && kind === 'folder')) {
      throw refuse(`${shown(name)} both as a ${before === IMPLIED ? 'folder' : before} and as a ${kind}`);
    }
    this.names.set(rel, kind);
    if (before === IMPLIED) return rel; // its folders were checked when it was first implied

    // Every folder above it, deepest first, up to the first one already known: those above
    // that one were checked and recorded when it was.
    for (let end = rel.lastIndexOf('/'); end > 0; end = rel.lastIndexOf('/', end - 1)) {
      const folder = rel.slice(0, end);
      const known = this.names.get(folder);
      if (known === 'file') throw refuse(`${shown(name)} inside ${shown(folder)}, which is a file`);
      if (known === 'symlink') throw refuse(`${shown(name)} inside the symlink ${shown(folder)}`);
      if (known !== undefined) break;
      this.names.set(folder, IMPLIED);
    }
    return rel;
  }
}
