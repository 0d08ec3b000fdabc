import { sourceId, type ChunkKeys } from '@coffer/crypto';

/** Object names of chunked backups (SPEC §12). */
export const chunkedLayout = (keys: ChunkKeys, source: string) => {
  const sid = sourceId(keys.sourceId, source);
  return {
    sourceId: sid,
    backups: `coffer/${sid}/backups/`,
    chunks: `coffer/${sid}/chunks/`,
    manifest: (backupId: string) => `coffer/${sid}/backups/${backupId}.age`,
    refs: (backupId: string) => `coffer/${sid}/backups/${backupId}.refs`,
    chunk: (id: string) => `coffer/${sid}/chunks/${id}.age`,
  };
};

export type ChunkedLayout = ReturnType<typeof chunkedLayout>;

export const MANIFEST_KEY = /^coffer\/(s[0-9a-f]{32})\/backups\/([^/]+)\.age$/;
export const REFS_KEY = /^coffer\/(s[0-9a-f]{32})\/backups\/([^/]+)\.refs$/;
export const CHUNK_KEY = /^coffer\/(s[0-9a-f]{32})\/chunks\/([0-9a-f]{64})\.age$/;
