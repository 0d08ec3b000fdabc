// The workspace packages published to npm, in dependency order. The consumer test checks each.
export const PUBLISHED = [
  'tooling/native-build',
  'packages/batch-io',
  'packages/crypto',
  'packages/storage',
  'packages/storage-s3',
  'packages/storage-drive',
  'packages/storage-testkit',
  'packages/vault-protocol',
];
