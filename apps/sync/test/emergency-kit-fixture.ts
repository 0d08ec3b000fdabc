// Test support for emergency-kit.test.ts: chunked (format 2) backups built by hand from SPEC
// §9–§12 with the crypto package's primitives (the CLI cannot write them yet), and a PATH that
// holds only what restore.sh may use.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { chunkId, createEncryptStream, padme, refsMac, sealChunk, sourceId, type KeyMaterial } from '@coffer/crypto';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface ChunkedBackup {
  readonly backupId: string;
  readonly sourceFolder: string;
  /** Chunk ids in manifest order, with the path of each chunk object. */
  readonly chunks: readonly { id: string; length: number; path: string }[];
}

/** The plain stream a backup encrypts: `tar -c` of `tree`, gzip-compressed if asked, zero-padded to its Padmé length (SPEC §9). */
export function tarStream(tree: string, options: { gzip?: boolean } = {}): Buffer {
  const r = spawnSync('tar', ['--format=pax', '-cf', '-', '-C', tree, '.'], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`tar -c failed: ${r.stderr}`);
  let stream = r.stdout as Buffer;
  if (options.gzip) {
    const z = spawnSync('gzip', ['-c'], { input: stream, maxBuffer: 1 << 30 });
    if (z.status !== 0) throw new Error('gzip failed');
    stream = z.stdout as Buffer;
  }
  return Buffer.concat([stream, Buffer.alloc(padme(stream.length) - stream.length)]);
}

/**
 * Writes a chunked backup of `stream` into the destination folder `dest` exactly as SPEC §9–§12
 * say: the stream cut at `cuts` (arbitrary offsets: readers must not rely on where cuts fall),
 * each chunk an age file of the chunk and zero padding named by its keyed id, the manifest a
 * Coffer backup with metadata format 2 whose text is padded with empty lines, and its MACed
 * reference list.
 */
export async function writeChunkedBackup(
  dest: string,
  key: KeyMaterial,
  meta: { source: string; backupId: string; createdAt: string; generation: number },
  stream: Buffer,
  cuts: readonly number[],
): Promise<ChunkedBackup> {
  const sid = sourceId(key.chunkKeys.sourceId, meta.source);
  const folder = join(dest, 'coffer', sid);
  mkdirSync(join(folder, 'chunks'), { recursive: true });
  mkdirSync(join(folder, 'backups'), { recursive: true });
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < stream.length), stream.length];
  const chunks: { id: string; length: number; path: string }[] = [];
  const lines = ['coffer-manifest 2'];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const chunk = stream.subarray(bounds[i], bounds[i + 1]);
    const id = chunkId(key.chunkKeys.chunkId, chunk);
    const path = join(folder, 'chunks', `${id}.age`);
    if (!existsSync(path)) writeFileSync(path, await sealChunk(key.recipient, chunk));
    chunks.push({ id, length: chunk.length, path });
    lines.push(`chunk ${id} ${chunk.length} ${sha256(chunk)}`);
  }
  lines.push(`end ${chunks.length} ${stream.length}`, '');
  const text = lines.join('\n');
  const padded = Buffer.from(text + '\n'.repeat(padme(text.length) - text.length));
  const manifest = await buffer(Readable.from([padded]).pipe(createEncryptStream({ key, metadata: { format: 2, ...meta } })));
  const refs = [
    'coffer-refs 2',
    `key-id ${key.keyId}`,
    `source-id ${sid}`,
    `backup-id ${meta.backupId}`,
    `generation ${meta.generation}`,
    ...[...new Set(chunks.map((c) => c.id))].sort().map((id) => `chunk ${id}`),
    '',
  ].join('\n');
  writeFileSync(join(folder, 'backups', `${meta.backupId}.refs`), `${refs}mac ${refsMac(key.chunkKeys.refsMac, Buffer.from(refs))}\n`);
  writeFileSync(join(folder, 'backups', `${meta.backupId}.age`), manifest);
  return { backupId: meta.backupId, sourceFolder: folder, chunks };
}

/** Every tool restore.sh may call, and nothing else: no node, no sed, no awk, no bash. */
const TOOLS = ['age', 'tar', 'gzip', 'head', 'tail', 'od', 'base64', 'sha256sum', 'wc', 'tr', 'sort', 'ls', 'mkdir', 'mv', 'rm', 'rmdir', 'chmod', 'cat', 'dirname', 'basename'];

function which(tool: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(dir, tool);
    if (dir && existsSync(path)) return path;
  }
  // Fail, never skip: bootstrap installs age and dash (Debian's /bin/sh).
  throw new Error(`${tool} is not installed: run scripts/bootstrap.sh`);
}

/** A folder of symlinks: `sh` is dash (POSIX only, no bash-isms), plus TOOLS. */
export function minimalPath(): string {
  const bin = mkdtempSync(join(tmpdir(), 'coffer-kit-bin-'));
  symlinkSync(which('dash'), join(bin, 'sh'));
  for (const tool of TOOLS) symlinkSync(which(tool), join(bin, tool));
  return bin;
}
