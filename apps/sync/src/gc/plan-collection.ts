/**
 * Garbage collection of one source's chunks in one destination (SPEC §13 step 5), as a pure plan:
 * what may be deleted, given what was listed after retention ran.
 */
export interface CollectionInput {
  /** Backup ids of the manifests listed now. */
  readonly manifests: readonly string[];
  /** Every reference list listed now, by backup id: its chunk ids, or 'invalid' when it did not verify. */
  readonly refs: ReadonlyMap<string, readonly string[] | 'invalid'>;
  /** Chunk ids listed now. */
  readonly chunks: readonly string[];
}

export interface CollectionPlan {
  /** Chunks no listed manifest needs. Empty whenever `blockedBy` is not. */
  readonly deleteChunks: string[];
  /** Reference lists whose manifest is gone (left by an interrupted run or rotation). */
  readonly deleteRefs: string[];
  /** Manifests without a reference list that verifies: while any is listed, no chunk may go. */
  readonly blockedBy: string[];
}

export function planCollection({ manifests, refs, chunks }: CollectionInput): CollectionPlan {
  const listed = new Set(manifests);
  const live = new Set<string>();
  const blockedBy: string[] = [];
  for (const id of manifests) {
    const list = refs.get(id);
    // Why: without a trusted list, any chunk might be one this backup needs.
    if (list === undefined || list === 'invalid') blockedBy.push(id);
    else for (const chunk of list) live.add(chunk);
  }
  const deleteRefs = [...refs.keys()].filter((id) => !listed.has(id));
  const deleteChunks = blockedBy.length > 0 ? [] : chunks.filter((chunk) => !live.has(chunk));
  return { deleteChunks, deleteRefs, blockedBy };
}
