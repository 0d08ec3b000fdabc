import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';

export const vaultConfigSchema = z.strictObject({
  listen: z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-f:]+\]:\d{1,5}$/, 'must be HOST:PORT, like "127.0.0.1:8787"').default('127.0.0.1:8787'),
  /** `sqlite:./vault.db` (relative to this file) or `postgres://user@host/db`. */
  database: z.string().regex(/^(sqlite:|postgres(ql)?:\/\/)/, 'must start with "sqlite:" or "postgres://"').default('sqlite:./vault.db'),
  /** Holds the OPAQUE server setup; created with mode 0600 on first start. */
  secretsFile: z.string().min(1).default('./vault-secrets'),
  tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
  rateLimits: z
    .strictObject({
      requestsPerIpPerMinute: z.number().int().min(1).default(300),
      loginsPerAccountPerMinute: z.number().int().min(1).default(30),
    })
    .default({ requestsPerIpPerMinute: 300, loginsPerAccountPerMinute: 30 }),
});

export type VaultConfig = z.infer<typeof vaultConfigSchema> & { readonly configPath: string };

export class VaultConfigError extends Error {}

/** Loads and validates the YAML config; every problem is reported with its line. */
export function loadVaultConfig(path: string): VaultConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new VaultConfigError(`cannot read config ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  if (doc.errors.length) throw new VaultConfigError(doc.errors.map((e) => `${path}:${counter.linePos(e.pos[0]).line}: YAML syntax: ${e.message.split('\n')[0]}`).join('\n'));
  const r = vaultConfigSchema.safeParse(doc.toJS() ?? {});
  if (!r.success) {
    throw new VaultConfigError(
      r.error.issues
        .map((i) => {
          const node = doc.getIn(i.path as (string | number)[], true) as { range?: [number] } | undefined;
          const line = node?.range ? `:${counter.linePos(node.range[0]).line}` : '';
          const unknown = i.code === 'unrecognized_keys' ? `unknown field ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message;
          return `${path}${line}: ${i.path.join('.') || '(top level)'}: ${unknown}`;
        })
        .join('\n'),
    );
  }
  const base = dirname(resolve(path));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const database = r.data.database.startsWith('sqlite:') ? `sqlite:${abs(r.data.database.slice(7))}` : r.data.database;
  return {
    ...r.data,
    database,
    secretsFile: abs(r.data.secretsFile),
    tls: r.data.tls && { certFile: abs(r.data.tls.certFile), keyFile: abs(r.data.tls.keyFile) },
    configPath: resolve(path),
  };
}
