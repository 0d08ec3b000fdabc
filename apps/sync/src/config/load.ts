import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { configError } from '../errors.js';
import { configSchema, type Config } from './schema.js';

export interface LoadedConfig extends Config {
  /** Absolute path of the config file; relative paths inside it are resolved against its folder. */
  readonly configPath: string;
}

function expandPath(path: string, base: string): string {
  if (path === '~' || path.startsWith('~/')) return resolve(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(base, path);
}

const formatPath = (path: readonly PropertyKey[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') || '(top level)';

/** The line of the deepest YAML node that exists along `path` (1-based). */
function lineOf(doc: Document, counter: LineCounter, path: readonly PropertyKey[], unknownKey?: string): number | undefined {
  let node: unknown = doc.contents;
  let line = (node as Node | null)?.range ? counter.linePos((node as Node).range![0]).line : undefined;
  const steps = unknownKey === undefined ? path : [...path, unknownKey];
  for (const step of steps) {
    let next: unknown;
    let keyNode: Node | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown })?.value === step);
      next = pair?.value;
      keyNode = pair?.key as Node | undefined;
    } else if (isSeq(node) && typeof step === 'number') {
      next = node.items[step];
    }
    const ranged = (keyNode ?? next) as Node | undefined;
    if (!ranged?.range) break;
    line = counter.linePos(ranged.range[0]).line;
    node = next;
  }
  return line;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), data);
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): { message: string; unknownKeys?: string[] } {
  if (issue.code === 'unrecognized_keys') {
    const secret = issue.keys.find((k) => /secret|password|token|accessKeyId/i.test(k) && !k.endsWith('Env'));
    const hint = secret ? `; secrets are never written in the config: name an environment variable with "${secret}Env"` : '';
    return { message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}${hint}`, unknownKeys: issue.keys };
  }
  // zod 4 leaves the offending input out of issues: look at the data itself.
  if (issue.code === 'invalid_type' && valueAt(data, issue.path) === undefined) return { message: 'is required' };
  if (issue.code === 'invalid_type') return { message: `must be ${issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}` };
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') return { message: 'type must be one of "local", "s3", "drive"' };
  return { message: issue.message };
}

/** Reads, validates and resolves a config file. Every problem is reported at once, with its line. */
export function loadConfig(path: string): LoadedConfig {
  const configPath = resolve(path);
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw configError(`cannot read config ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code}`);
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => `${path}:${counter.linePos(e.pos[0]).line}: YAML syntax: ${e.message.split('\n')[0]}`);
    throw configError(lines.join('\n'));
  }
  const data: unknown = doc.toJS() ?? {};
  const result = configSchema.safeParse(data);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const { message, unknownKeys } = describeIssue(issue, data);
      const line = lineOf(doc, counter, issue.path, unknownKeys?.[0]);
      return `${path}${line ? `:${line}` : ''}: ${formatPath(issue.path)}: ${message}`;
    });
    throw configError(lines.join('\n'));
  }
  const config = result.data;
  const problems: string[] = [];
  for (const [list, label] of [[config.sources, 'sources'], [config.destinations, 'destinations']] as const) {
    const seen = new Set<string>();
    list.forEach((item, i) => {
      if (seen.has(item.name)) problems.push(`${path}:${lineOf(doc, counter, [label, i, 'name'])}: ${label}[${i}].name: "${item.name}" is used twice`);
      seen.add(item.name);
    });
  }
  if (problems.length) throw configError(problems.join('\n'));

  const base = dirname(configPath);
  return {
    ...config,
    configPath,
    key: { ...config.key, file: expandPath(config.key.file, base), vault: config.key.vault && { ...config.key.vault, tokenFile: expandPath(config.key.vault.tokenFile, base) } },
    sources: config.sources.map((s) => ({ ...s, path: expandPath(s.path, base) })),
    destinations: config.destinations.map((d) =>
      d.type === 'local' ? { ...d, path: expandPath(d.path, base) } : d.type === 'drive' ? { ...d, credentialsFile: expandPath(d.credentialsFile, base) } : d,
    ),
    stateDir: expandPath(config.stateDir, base),
  };
}
