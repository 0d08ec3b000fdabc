import { z } from 'zod';
import { Cron } from 'croner';
import { parseDuration } from './duration.js';

/** Names become object-key segments and metric labels: keep them plain. */
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

const source = z.strictObject({
  name,
  path: z.string().min(1),
  exclude: z.array(z.string().min(1)).default([]),
  /**
   * Off by default: compressing text an attacker can influence (a received message) and then
   * encrypting it can leak content through the backup's size (CRIME-style). Use gzip only for
   * sources whose content strangers cannot inject into.
   */
  compression: z.enum(['none', 'gzip']).default('none'),
});

/**
 * How backups are laid out on a destination (SPEC §9–§13): `chunked` uploads only the chunks a
 * backup does not share with those already there; `single` writes one age file per backup.
 */
const layout = {
  format: z.enum(['single', 'chunked']).default('single'),
  /** Chunk sizes for `chunked`; the average must be a power of two. */
  chunker: z
    .strictObject({
      minKiB: z.number().int().min(1).default(256),
      avgKiB: z.number().int().min(1).default(1024),
      maxKiB: z.number().int().min(1).max(64 * 1024).default(4096),
    })
    .refine((c) => Number.isInteger(Math.log2(c.avgKiB)), { message: 'avgKiB must be a power of two', path: ['avgKiB'] })
    .refine((c) => c.minKiB <= c.avgKiB && c.avgKiB <= c.maxKiB, { message: 'must satisfy minKiB <= avgKiB <= maxKiB' })
    .default({ minKiB: 256, avgKiB: 1024, maxKiB: 4096 }),
};

const local = z.strictObject({ name, type: z.literal('local'), path: z.string().min(1), ...layout });

const s3 = z.strictObject({
  name,
  type: z.literal('s3'),
  bucket: z.string().min(3, 'must be at least 3 characters'),
  prefix: z.string().default(''),
  region: z.string().default('us-east-1'),
  endpoint: z.url().optional(),
  forcePathStyle: z.boolean().default(false),
  /** Secrets are never inline: name environment variables (or use the AWS provider chain). */
  accessKeyIdEnv: envName.optional(),
  secretAccessKeyEnv: envName.optional(),
  sessionTokenEnv: envName.optional(),
  partSizeMiB: z.number().int().min(5).max(5120).default(16),
  queueSize: z.number().int().min(1).max(16).default(2),
  serverSideEncryption: z.enum(['AES256', 'aws:kms']).optional(),
  storageClass: z.string().optional(),
  /** ListObjects API version; 1 for servers that lack v2. */
  listApi: z.union([z.literal(1), z.literal(2)]).default(2),
  ...layout,
});

const drive = z.strictObject({
  name,
  type: z.literal('drive'),
  /** `appDataFolder` (hidden, scope drive.appdata, as WhatsApp does) or a folder name. */
  folder: z.string().default('appDataFolder'),
  credentialsFile: z.string().min(1),
  chunkSizeMiB: z.number().int().min(1).max(256).default(8),
  /** API root and OAuth token URL overrides, for proxies and tests; Google's by default. */
  apiRoot: z.url().optional(),
  tokenUrl: z.url().optional(),
  ...layout,
});

const schedule = z
  .strictObject({
    every: z
      .string()
      .refine((s) => (parseDuration(s) ?? 0) >= 60_000, 'must be a duration of at least 1m, like "30m", "6h" or "1d"')
      .optional(),
    cron: z
      .string()
      .refine((s) => {
        try {
          new Cron(s, { paused: true });
          return true;
        } catch {
          return false;
        }
      }, 'is not a valid cron expression')
      .optional(),
  })
  .refine((s) => (s.every === undefined) !== (s.cron === undefined), 'give exactly one of every (like "6h") or cron (like "0 3 * * *")');

export const configSchema = z.strictObject({
  key: z.strictObject({
    /** The backup key file, or a write-only key file on hosts that only make backups. */
    file: z.string().min(1),
    /** Password-protected escrow of the backup key, and freshness anchors (coffer-vault). */
    vault: z
      .strictObject({
        // Why: credentials in the URL would end up in logs and error messages; the token has its own 0600 file.
        url: z.url().refine((u) => {
          try {
            const parsed = new URL(u);
            return !parsed.username && !parsed.password;
          } catch {
            return true; // z.url() reports it
          }
        }, 'must not contain a user name or password (the access token belongs in tokenFile)'),
        account: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'use 1-64 lowercase letters, digits, ".", "_" or "-"'),
        /** The account's access token (mode 0600), written by `coffer init --vault`. */
        tokenFile: z.string().min(1),
        /** Wrong passwords allowed before the vault destroys the key (1-255). */
        maxAttempts: z.number().int().min(1).max(255).default(10),
      })
      .optional(),
  }),
  sources: z.array(source).min(1, 'list at least one source'),
  destinations: z.array(z.discriminatedUnion('type', [local, s3, drive])).min(1, 'list at least one destination'),
  schedule: schedule.default({ every: '6h' }),
  retention: z
    .strictObject({
      keepLast: z.number().int().min(1, 'must be at least 1: the newest backup is always kept').default(1),
      keepDaily: z.number().int().min(0).default(0),
      keepWeekly: z.number().int().min(0).default(0),
    })
    .default({ keepLast: 1, keepDaily: 0, keepWeekly: 0 }),
  /** Where generations and the daemon lock live; default `.coffer-state` beside the config. */
  stateDir: z.string().default('.coffer-state'),
  daemon: z
    .strictObject({
      listen: z
        .string()
        .regex(/^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d{1,5}$/, 'must be a loopback address like "127.0.0.1:9464"')
        .default('127.0.0.1:9464'),
    })
    .default({ listen: '127.0.0.1:9464' }),
}).refine((c) => !c.key.vault || new Set(c.destinations.map((d) => d.format)).size === 1, {
  // The vault keeps one anchor per source: the SHA-256 of one object, and the two formats store different ones.
  message: 'with key.vault, every destination must use the same format (single or chunked)',
  path: ['destinations'],
});

export type Config = z.infer<typeof configSchema>;
export type SourceConfig = Config['sources'][number];
export type DestinationConfig = Config['destinations'][number];
export type RetentionPolicy = Config['retention'];
