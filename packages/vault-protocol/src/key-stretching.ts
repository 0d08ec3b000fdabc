/**
 * The OPAQUE key-stretching function, pinned (PROTOCOL.md, "Key stretching"). These are the values
 * @serenity-kit/opaque 1.1.0 used by default when the first vaults were enrolled; a library upgrade
 * that changed its default would otherwise lock every existing password out. The fixed vector in
 * test/vectors/ fails if these change.
 */
export const KEY_STRETCHING = {
  'argon2id-custom': { iterations: 3, memory: 65_536, parallelism: 4 },
} as const;
