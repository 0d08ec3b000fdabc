// Every config in the documentation is loaded by the real config loader (schema, defaults, line
// numbers), so a guide cannot drift from apps/sync/src/config/schema.ts: a renamed or removed
// field fails here. Every JSON block (IAM policies, lifecycle rules) must parse.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';

const root = new URL('../../../', import.meta.url).pathname;
const guides = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
const files = ['README.md', ...guides];
const blocks = (file: string, lang: string) => [...readFileSync(join(root, file), 'utf8').matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]!);

const scratch = mkdtempSync(join(tmpdir(), 'coffer-docs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let n = 0;
const load = (yaml: string) => {
  const path = join(scratch, `config-${++n}.yaml`);
  writeFileSync(path, yaml);
  return loadConfig(path);
};

it('has the provider guides, each linked from the README', () => {
  expect(guides.sort()).toEqual(['docs/aws-s3.md', 'docs/backblaze-b2.md', 'docs/cloudflare-r2.md', 'docs/google-drive.md', 'docs/minio.md', 'docs/synced-folder.md']);
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  for (const guide of guides) expect(readme).toContain(`](${guide})`);
});

describe.each(files)('%s', (file) => {
  const yaml = blocks(file, 'yaml');

  it('has a copy-paste config', () => {
    expect(yaml.length).toBeGreaterThan(0);
  });

  it.each(yaml.map((y, i) => [i + 1, y] as const))('config %i loads without a problem', (_i, text) => {
    expect(() => load(text)).not.toThrow();
  });

  it('has JSON blocks that parse', () => {
    for (const json of blocks(file, 'json')) expect(() => JSON.parse(json)).not.toThrow();
  });
});

it('the loader does reject a config that drifted (so the checks above mean something)', () => {
  const config = blocks('docs/aws-s3.md', 'yaml')[0]!;
  expect(() => load(config)).not.toThrow();
  expect(() => load(config.replace('accessKeyIdEnv:', 'accessKeyId:'))).toThrow(/accessKeyId/);
  expect(() => load(config.replace('region: eu-central-1', 'region: 42'))).toThrow(/region/);
});

it('the provider-specific settings the guides promise are in their configs', () => {
  const s3 = (file: string) => load(blocks(file, 'yaml')[0]!).destinations[0]!;
  expect(s3('docs/cloudflare-r2.md')).toMatchObject({ type: 's3', region: 'auto', endpoint: expect.stringMatching(/\.r2\.cloudflarestorage\.com$/) });
  expect(s3('docs/minio.md')).toMatchObject({ type: 's3', forcePathStyle: true });
  expect(s3('docs/backblaze-b2.md')).toMatchObject({ type: 's3', endpoint: expect.stringMatching(/^https:\/\/s3\.[a-z0-9-]+\.backblazeb2\.com$/) });
  expect(s3('docs/google-drive.md')).toMatchObject({ type: 'drive', folder: 'appDataFolder' });
  expect(s3('docs/synced-folder.md')).toMatchObject({ type: 'local', path: expect.stringContaining('com~apple~CloudDocs') });
});
