// s3rver ships no types; this is the part of its API the test helpers use.
declare module 's3rver' {
  interface S3rverOptions {
    port?: number;
    address?: string;
    silent?: boolean;
    directory?: string;
    configureBuckets?: { name: string; configs: unknown[] }[];
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    /** Its FilesystemStore (lib/stores/filesystem.js). */
    readonly store: Parameters<typeof import('./s3rver-read-after-write.js').makePutReadAfterWrite>[0];
    run(): Promise<{ port: number; address: string }>;
    close(): Promise<void>;
  }
}
