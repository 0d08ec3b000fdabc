import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isAlias, isCollection, isMap, isPair, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node } from 'yaml';
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

/** Aliases (`*name`) a config may hold: a config needs few (yaml's maxAliasCount also defaults to 100). */
export const MAX_ALIASES = 100;
/** Values all aliases together may stand for, expanded: an alias bomb stands for billions. */
export const MAX_ALIASED_VALUES = 10_000;

/**
 * The problems of a config's aliases, each with its line: too many, one without its anchor, one
 * inside the node it stands for, or so many values behind them all that expanding them would
 * exhaust memory (a "billion laughs"). Counted here rather than by yaml's maxAliasCount, whose
 * error names no line.
 */
function aliasProblems(doc: Document, counter: LineCounter, path: string): string[] {
  const at = (node: Node) => `${path}:${counter.linePos(node.range![0]).line}: YAML aliases`;
  const aliases: Alias[] = [];
  const targets = new Map<Alias, Node>();
  const anchors = new Map<string, Node>();
  // In document order: an alias stands for the last node with its anchor before it.
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        aliases.push(node);
        const target = anchors.get(node.source);
        if (target) targets.set(node, target);
      } else if (node.anchor) anchors.set(node.anchor, node);
    },
  });
  if (aliases.length > MAX_ALIASES) return [`${at(aliases[MAX_ALIASES]!)}: more than ${MAX_ALIASES} aliases (*name); a config needs few`];
  const missing = aliases.filter((a) => !targets.has(a));
  if (missing.length > 0) return missing.map((a) => `${at(a)}: *${a.source} has no anchor &${a.source} before it`);

  // Values behind a node, aliases expanded; capped, so that the sums stay small numbers.
  const cap = MAX_ALIASED_VALUES + 1;
  const sizes = new Map<unknown, number>();
  const open = new Set<unknown>();
  const size = (node: unknown): number => {
    if (isAlias(node)) {
      const target = targets.get(node)!;
      if (open.has(target)) throw new SelfReference(node);
      return size(target);
    }
    if (isPair(node)) return Math.min(cap, size(node.key) + size(node.value));
    if (!isCollection(node)) return 1;
    let total = sizes.get(node);
    if (total === undefined) {
      open.add(node);
      total = 1;
      for (const item of node.items) total = Math.min(cap, total + size(item));
      open.delete(node);
      sizes.set(node, total);
    }
    return total;
  };
  let expanded = 0;
  for (const alias of aliases) {
    try {
      expanded += size(alias);
    } catch (err) {
      if (!(err instanceof SelfReference)) throw err;
      return [`${at(err.alias)}: *${err.alias.source} is inside the node it stands for`];
    }
    if (expanded > MAX_ALIASED_VALUES) return [`${at(alias)}: the aliases up to *${alias.source} stand for more than ${MAX_ALIASED_VALUES} values; a config needs far fewer`];
  }
  return [];
}

class SelfReference extends Error {
  constructor(readonly alias: Alias) {
    super('alias inside its own anchor');
  }
}

/** The config's text; bytes that are not UTF-8 are reported with their line, never replaced. */
function utf8Text(bytes: Buffer, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // found below, line by line
  }
  const problems: string[] = [];
  let line = 1;
  for (let start = 0; start <= bytes.length; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end === -1) end = bytes.length;
    const decoder = new TextDecoder('utf-8', { fatal: true });
    for (let i = start; i <= end; i++) {
      try {
        // One byte at a time: the first that cannot continue valid UTF-8 throws (the end of the line flushes).
        decoder.decode(bytes.subarray(i, Math.min(i + 1, end)), { stream: i < end });
      } catch {
        const at = Math.min(i, end - 1);
        problems.push(`${path}:${line}: not UTF-8 (byte 0x${bytes[at]!.toString(16).padStart(2, '0')} at column ${at - start + 1}); save the config as UTF-8`);
        break;
      }
    }
    start = end + 1;
  }
  if (problems.length === 0) return bytes.toString('utf8'); // not reached: a line break is never inside a character
  throw configError(problems.join('\n'));
}

/** Reads, validates and resolves a config file. Every problem is reported at once, with its line. */
export function loadConfig(path: string): LoadedConfig {
  const configPath = resolve(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(configPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw configError(`cannot read config ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code}`);
  }
  const text = utf8Text(bytes, path);
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => `${path}:${counter.linePos(e.pos[0]).line}: YAML syntax: ${e.message.split('\n')[0]}`);
    throw configError(lines.join('\n'));
  }
  const aliases = aliasProblems(doc, counter, path);
  if (aliases.length > 0) throw configError(aliases.join('\n'));
  // The aliases were counted above, each with its line; yaml's own count would name none.
  const data: unknown = doc.toJS({ maxAliasCount: -1 }) ?? {};
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
