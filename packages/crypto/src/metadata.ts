import { invalidArgument } from './errors.js';

/** SPEC §5. `keyId` travels in the stanza's arguments, not in the JSON. */
export interface BackupMetadata {
  /** 1: a single-file backup; 2: a manifest of a chunked backup (SPEC §5, §10). */
  readonly format: 1 | 2;
  readonly backupId: string;
  readonly source: string;
  readonly createdAt: string;
  readonly generation: number;
  readonly keyId: string;
}

export type BackupMetadataInput = Pick<BackupMetadata, 'backupId' | 'source' | 'createdAt' | 'generation'> & { readonly format?: 1 | 2 };

const BACKUP_ID = /^[A-Za-z0-9._-]{1,64}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** Returns a problem description, or null when the fields are valid. */
function problem(m: Record<string, unknown>): string | null {
  if (typeof m.backupId !== 'string' || !BACKUP_ID.test(m.backupId)) return 'backupId must match [A-Za-z0-9._-]{1,64}';
  if (typeof m.source !== 'string' || m.source.length < 1 || m.source.length > 128 || /\p{Cc}/u.test(m.source)) {
    return 'source must be 1-128 characters without control characters';
  }
  if (typeof m.createdAt !== 'string' || !ISO_UTC.test(m.createdAt) || Number.isNaN(Date.parse(m.createdAt))) {
    return 'createdAt must be an ISO 8601 UTC time';
  }
  if (typeof m.generation !== 'number' || !Number.isSafeInteger(m.generation) || m.generation < 1) {
    return 'generation must be an integer >= 1';
  }
  return null;
}

export function encodeMetadata(input: BackupMetadataInput): Uint8Array {
  const p = problem(input as unknown as Record<string, unknown>);
  if (p) throw invalidArgument(`metadata: ${p}`);
  const { backupId, source, createdAt, generation, format = 1 } = input;
  if (format !== 1 && format !== 2) throw invalidArgument('metadata: format must be 1 or 2');
  return Buffer.from(JSON.stringify({ format, backupId, source, createdAt, generation }), 'utf8');
}

/** Parses authenticated metadata bytes; returns null if they do not match the schema exactly. */
export function decodeMetadata(bytes: Uint8Array, keyId: string): BackupMetadata | null {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const m = value as Record<string, unknown>;
  const keys = Object.keys(m).sort().join(',');
  if (keys !== 'backupId,createdAt,format,generation,source' || (m.format !== 1 && m.format !== 2) || problem(m)) return null;
  return {
    format: m.format,
    backupId: m.backupId as string,
    source: m.source as string,
    createdAt: m.createdAt as string,
    generation: m.generation as number,
    keyId,
  };
}
