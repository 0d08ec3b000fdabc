import { timingSafeEqual } from 'node:crypto';
import { refsMac, type ChunkKeys } from '@coffer/crypto';
import { CofferError, EXIT } from '../errors.js';

/** What a reference list binds its chunk ids to (SPEC §11). */
export interface RefsSubject {
  readonly keyId: string;
  readonly sourceId: string;
  readonly backupId: string;
  readonly generation: number;
}

/** What a reference list says besides its subject (SPEC §11). */
export interface Refs {
  readonly ids: string[];
  /** Bytes making the backup sent to this destination. */
  readonly uploaded: number;
}

/** What a reader checks a list against: the generation only where it knows it (SPEC §11). */
export type ExpectedSubject = Omit<RefsSubject, 'generation'> & { readonly generation?: number };

const HEADER = 'coffer-refs 2';
const CHUNK_ID = /^[0-9a-f]{64}$/;

/** The reference list of a manifest: its chunk ids, once each, in ascending order, then the MAC. */
export function encodeRefs(keys: ChunkKeys, subject: RefsSubject, ids: Iterable<string>, uploaded: number): Buffer {
  const sorted = [...new Set(ids)].sort();
  const body = Buffer.from(
    `${HEADER}\nkey-id ${subject.keyId}\nsource-id ${subject.sourceId}\nbackup-id ${subject.backupId}\ngeneration ${subject.generation}\nuploaded ${uploaded}\n${sorted.map((id) => `chunk ${id}\n`).join('')}`,
  );
  return Buffer.concat([body, Buffer.from(`mac ${refsMac(keys.refsMac, body)}\n`)]);
}

const invalid = (why: string) => new CofferError('CORRUPTED', `reference list does not verify: ${why}`, EXIT.failure);

/**
 * The chunk ids of a reference list, once its MAC (constant time) and subject check out; throws
 * CORRUPTED otherwise.
 */
export function parseRefs(keys: ChunkKeys, bytes: Uint8Array, subject: ExpectedSubject): Refs {
  const text = Buffer.from(bytes);
  const macAt = text.lastIndexOf('mac ');
  if (macAt <= 0 || text[macAt - 1] !== 0x0a) throw invalid('no MAC line');
  const given = text.subarray(macAt + 4).toString('latin1').replace(/\n$/, '');
  const want = refsMac(keys.refsMac, text.subarray(0, macAt));
  if (!/^[0-9a-f]{64}$/.test(given) || !timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(want, 'hex'))) throw invalid('wrong MAC');
  const lines = text.subarray(0, macAt - 1).toString('utf8').split('\n');
  const expected = [HEADER, `key-id ${subject.keyId}`, `source-id ${subject.sourceId}`, `backup-id ${subject.backupId}`, `generation ${subject.generation ?? ''}`];
  for (const [i, line] of expected.entries()) {
    const ok = i === 4 && subject.generation === undefined ? /^generation [1-9]\d{0,15}$/.test(lines[i] ?? '') : lines[i] === line;
    if (!ok) throw invalid(`line ${i + 1} is not "${line}"`);
  }
  const uploaded = /^uploaded (\d{1,15})$/.exec(lines[expected.length] ?? '');
  if (!uploaded) throw invalid(`line ${expected.length + 1} is not "uploaded <bytes>"`);
  const chunkLines = lines.slice(expected.length + 1);
  const ids = chunkLines.map((line) => line.slice(6));
  if (!chunkLines.every((line, i) => line.startsWith('chunk ') && CHUNK_ID.test(ids[i]!) && (i === 0 || ids[i - 1]! < ids[i]!))) throw invalid('chunk lines malformed or out of order');
  return { ids, uploaded: Number(uploaded[1]) };
}
