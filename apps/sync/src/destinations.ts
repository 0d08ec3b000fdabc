import { describeRetry, LocalBackend, LoggingBackend, RetryingBackend, runWithRetry, type RetryPolicy, type StorageBackend } from '@coffer/storage';
import type { DestinationConfig } from './config/schema.js';
import { secretFromEnv, storageTuning } from './env.js';
import { CofferError, EXIT } from './errors.js';
import type { Logger } from './log.js';

export interface Destination {
  readonly name: string;
  readonly config: DestinationConfig;
  readonly backend: StorageBackend;
  /** Removes leftovers of interrupted uploads where the backend keeps any. */
  cleanup(): Promise<number>;
}

/** Builds each destination's backend, wrapped in retry and logging decorators. */
export async function openDestination(config: DestinationConfig, log: Logger): Promise<Destination> {
  let inner: StorageBackend;
  let cleanup = async () => 0;
  const tuning = storageTuning();
  switch (config.type) {
    case 'local': {
      const local = new LocalBackend({ root: config.path });
      inner = local;
      cleanup = () => local.cleanupIncomplete();
      break;
    }
    case 's3': {
      // Each provider's SDK loads only when a destination of its type is configured: the AWS SDK
      // and googleapis together cost tens of MiB of memory that local-only users never need.
      const { S3Backend } = await import('@coffer/storage-s3');
      const what = `destination "${config.name}"`;
      if ((config.accessKeyIdEnv === undefined) !== (config.secretAccessKeyEnv === undefined)) {
        throw new CofferError('CONFIG', `${what}: give both accessKeyIdEnv and secretAccessKeyEnv, or neither (to use the AWS credential chain)`, EXIT.usage);
      }
      const credentials = config.accessKeyIdEnv
        ? {
            accessKeyId: secretFromEnv(config.accessKeyIdEnv, what),
            secretAccessKey: secretFromEnv(config.secretAccessKeyEnv!, what),
            sessionToken: config.sessionTokenEnv ? secretFromEnv(config.sessionTokenEnv, what) : undefined,
          }
        : undefined;
      const s3 = new S3Backend({
        bucket: config.bucket,
        prefix: config.prefix,
        region: config.region,
        endpoint: config.endpoint,
        forcePathStyle: config.forcePathStyle,
        credentials,
        partSize: config.partSizeMiB * 1024 * 1024,
        queueSize: config.queueSize,
        serverSideEncryption: config.serverSideEncryption,
        storageClass: config.storageClass as never,
        listApi: config.listApi,
        timeoutMs: tuning.timeoutMs,
      });
      inner = s3;
      cleanup = () => s3.cleanupIncomplete();
      break;
    }
    case 'drive': {
      const { APP_DATA, DRIVE_SCOPES, DriveBackend, loadDriveCredentials } = await import('@coffer/storage-drive');
      const auth = await loadDriveCredentials(config.credentialsFile, {
        tokenUrl: config.tokenUrl,
        scopes: [config.folder === APP_DATA ? DRIVE_SCOPES.appData : DRIVE_SCOPES.file],
      });
      inner = new DriveBackend({ auth, folder: config.folder, chunkSize: config.chunkSizeMiB * 1024 * 1024, rootUrl: config.apiRoot, timeoutMs: tuning.timeoutMs });
      break;
    }
    default: {
      const unknown: never = config; // the schema admits no other type
      throw new CofferError('DESTINATION', `unknown destination type ${JSON.stringify((unknown as { type: string }).type)}`, EXIT.usage);
    }
  }
  const logged = new LoggingBackend(inner, (e) => log.debug({ storage: e }, `${e.operation} ${e.key} ${e.ok ? 'ok' : e.errorCode}`));
  // The one retry layer for every provider (their SDKs' own retries are off): each retry is
  // logged, e.g. "destination s3: retrying put part 2 of coffer/… in 2.1 s (SlowDown 503), attempt 3/8".
  const policy: Partial<RetryPolicy> = Object.fromEntries(Object.entries(tuning.retry).filter(([, v]) => v !== undefined));
  const backend = new RetryingBackend(logged, { ...policy, onRetry: (info) => log.warn(`destination ${config.name}: ${describeRetry(info)}`) });
  // Cleaning up is a few idempotent requests (list the leftovers, abort each): retried whole.
  return { name: config.name, config, backend, cleanup: () => runWithRetry(backend.policy, 'clean-up of interrupted uploads', undefined, cleanup) };
}
