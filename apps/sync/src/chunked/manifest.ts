import { padme } from '@coffer/crypto';
import { CofferError, EXIT } from '../errors.js';

/** One chunk of a chunked backup, in the order the tar is rebuilt (SPEC §10). */
export interface ManifestEntry {
  readonly id: string;
  readonly length: number;
  /** SHA-256 of the chunk, for the emergency script (sha256sum). */
  readonly sha256: string;
}

const HEADER = 'coffer-manifest 2';
const CHUNK_LINE = /^chunk ([0-9a-f]{64}) (\d{1,15}) ([0-9a-f]{64})$/;
const END_LINE = /^end (\d{1,15}) (\d{1,18})$/;

/** The manifest's text, padded with empty lines to its Padmé length (SPEC §10). */
export function encodeManifest(entries: readonly ManifestEntry[]): Buffer {
  const total = entries.reduce((sum, e) => sum + e.length, 0);
  const text = `${HEADER}\n${entries.map((e) => `chunk ${e.id} ${e.length} ${e.sha256}\n`).join('')}end ${entries.length} ${total}\n`;
  const bytes = Buffer.byteLength(text);
  return Buffer.concat([Buffer.from(text), Buffer.alloc(padme(bytes) - bytes, '\n')]);
}

const malformed = (why: string) => new CofferError('CORRUPTED', `the backup's manifest is malformed: ${why}`, EXIT.failure);

/**
 * Streams the entries of a decrypted manifest, one line at a time, so a manifest of any size is
 * never held whole. Fails, after the last entry, unless the `end` line agrees and only empty
 * lines follow it.
 */
export async function* readManifest(plaintext: AsyncIterable<Uint8Array>): AsyncGenerator<ManifestEntry> {
  let state: 'header' | 'chunks' | 'padding' = 'header';
  let count = 0;
  let total = 0;
  for await (const line of lines(plaintext)) {
    if (state === 'header') {
      if (line !== HEADER) throw malformed('it does not start with "coffer-manifest 2"');
      state = 'chunks';
    } else if (state === 'chunks') {
      const chunk = CHUNK_LINE.exec(line);
      if (chunk) {
        count += 1;
        total += Number(chunk[2]);
        yield { id: chunk[1]!, length: Number(chunk[2]), sha256: chunk[3]! };
        continue;
      }
      const end = END_LINE.exec(line);
      if (!end) throw malformed(`line ${count + 2} is neither a chunk nor the end`);
      if (Number(end[1]) !== count || Number(end[2]) !== total) throw malformed(`it lists ${count} chunks of ${total} bytes, its end line says ${end[1]} of ${end[2]}`);
      state = 'padding';
    } else if (line !== '') {
      throw malformed('text follows its end line');
    }
  }
  if (state !== 'padding') throw malformed('its end line is missing');
}

/** Lines of UTF-8 text without their `\n`; the text after the last `\n` is a line too, if any. */
async function* lines(source: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  let rest = '';
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for await (const piece of source) {
    const text = rest + decoder.decode(piece, { stream: true });
    const parts = text.split('\n');
    rest = parts.pop()!;
    // A line can only be this long in a damaged manifest: never buffer without limit.
    if (rest.length > 4096) throw malformed('a line is too long');
    yield* parts;
  }
  rest += decoder.decode();
  if (rest !== '') yield rest;
}
