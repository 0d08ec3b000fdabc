import { runStorageConformance } from '@coffer/storage-testkit';
import { S3Backend } from '../src/index.js';
import { startMoto, startS3rver, TEST_CREDENTIALS, type S3Server } from '@coffer/storage-testkit';

const MIB = 1024 * 1024;

for (const [label, start, listApi] of [['moto_server', startMoto, 2], ['s3rver', startS3rver, 1]] as const) {
  let server: S3Server | undefined;
  let n = 0;
  runStorageConformance(`s3 against ${label}`, {
    create: async ({ pageSize }) => {
      server ??= await start();
      n += 1;
      return new S3Backend({
        bucket: server.bucket,
        prefix: `run-${Date.now()}-${n}/`,
        endpoint: server.endpoint,
        forcePathStyle: true,
        credentials: TEST_CREDENTIALS,
        partSize: 5 * MIB,
        pageSize,
        listApi,
      });
    },
    dispose: async () => server?.stop(),
    boundedMemory: true,
    largeObjectMiB: 256,
  });
}
