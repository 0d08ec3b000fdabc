import { b64decode, b64encode } from '../bytes.js';
import { corrupted } from '../errors.js';

export const AGE_VERSION_LINE = 'age-encryption.org/v1';
/** SPEC §3: bounded header, so a hostile file cannot make the reader buffer without limit. */
export const MAX_HEADER_BYTES = 64 * 1024;
const COLUMNS = 64;

export interface Stanza {
  readonly args: readonly string[];
  readonly body: Uint8Array;
}

export interface ParsedStanza extends Stanza {
  /** Byte offset in the header where this stanza's `->` line starts. */
  readonly start: number;
  /** Byte offset just past this stanza's last body line. */
  readonly end: number;
}

export interface ParsedHeader {
  readonly stanzas: readonly ParsedStanza[];
  /** The header bytes through `---` (the input of the age header MAC). */
  readonly macInput: Uint8Array;
  readonly mac: Uint8Array;
  /** The complete header including the MAC line's newline. */
  readonly bytes: Uint8Array;
}

export function encodeStanza(stanza: Stanza): string {
  const body = b64encode(stanza.body);
  const lines: string[] = [];
  for (let i = 0; i <= body.length; i += COLUMNS) lines.push(body.slice(i, i + COLUMNS));
  // `<=`: the age spec ends every body with a line shorter than 64 columns, so a body that fills
  // its last line exactly gets an extra empty line.
  return `-> ${stanza.args.join(' ')}\n${lines.join('\n')}\n`;
}

/** Returns the header length (through the MAC line's newline), or -1 if more bytes are needed. */
export function findHeaderEnd(buf: Uint8Array): number {
  const text = Buffer.from(buf.buffer, buf.byteOffset, Math.min(buf.length, MAX_HEADER_BYTES));
  const mark = text.indexOf('\n--- ');
  if (mark !== -1) {
    const nl = text.indexOf('\n', mark + 5);
    if (nl !== -1) return nl + 1;
  }
  if (buf.length >= MAX_HEADER_BYTES) throw corrupted();
  return -1;
}

const VCHAR_ARG = /^[\x21-\x7e]+$/;

/** Strict parser for a complete age v1 header; any deviation is CORRUPTED. */
export function parseHeader(bytes: Uint8Array): ParsedHeader {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  if (!/^[\x20-\x7e\n]*$/.test(text) || !text.endsWith('\n')) throw corrupted();
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== AGE_VERSION_LINE) throw corrupted();
  let offset = lines[0].length + 1;
  let i = 1;
  const stanzas: ParsedStanza[] = [];
  for (;;) {
    const line = lines[i];
    if (line === undefined) throw corrupted();
    if (line.startsWith('--- ')) {
      const mac = b64decode(line.slice(4));
      if (!mac || mac.length !== 32 || i !== lines.length - 1) throw corrupted();
      return { stanzas, macInput: bytes.subarray(0, offset + 3), mac, bytes };
    }
    if (!line.startsWith('-> ')) throw corrupted();
    const start = offset;
    const args = line.slice(3).split(' ');
    if (!args.every((a) => VCHAR_ARG.test(a))) throw corrupted();
    offset += line.length + 1;
    i += 1;
    let body = '';
    for (;;) {
      const bodyLine = lines[i];
      if (bodyLine === undefined || bodyLine.length > COLUMNS || bodyLine.startsWith('-')) throw corrupted();
      body += bodyLine;
      offset += bodyLine.length + 1;
      i += 1;
      if (bodyLine.length < COLUMNS) break;
    }
    const decoded = b64decode(body);
    if (!decoded) throw corrupted();
    stanzas.push({ args, body: decoded, start, end: offset });
  }
}

export function headerPrefix(stanzas: readonly Stanza[]): string {
  return `${AGE_VERSION_LINE}\n${stanzas.map(encodeStanza).join('')}`;
}
