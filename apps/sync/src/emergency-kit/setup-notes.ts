import type { DestinationConfig } from '../config/schema.js';

/** What the kit's README says about one's own setup, when the kit was made from a config. */
export interface KitSetup {
  readonly configPath: string;
  readonly sources: readonly string[];
  readonly destinations: readonly DestinationConfig[];
}

/** How to get a local copy of one destination (the folder that holds `coffer/`). */
function copyCommand(d: DestinationConfig): string {
  switch (d.type) {
    case 'local':
      return `its folder as it is: ${d.path}`;
    case 's3': {
      const endpoint = d.endpoint ? ` --endpoint-url ${d.endpoint}` : '';
      // The prefix is glued to object names as is: only a prefix ending in "/" is a folder.
      if (d.prefix === '' || d.prefix.endsWith('/')) return `aws s3 sync${endpoint} s3://${d.bucket}/${d.prefix} ./copy`;
      return `aws s3 sync${endpoint} s3://${d.bucket}/ ./copy --exclude "*" --include "${d.prefix}coffer/*" (then use ./copy/${d.prefix}coffer as ./copy/coffer)`;
    }
    case 'drive':
      return d.folder === 'appDataFolder'
        ? 'the hidden app-data folder: rclone with Coffer\'s OAuth client and scope drive.appfolder (section 1)'
        : `rclone copy drive:${d.folder} ./copy`;
  }
}

export function setupNotes(setup: KitSetup): string {
  const lines = [`YOUR SETUP (from ${setup.configPath}, when this kit was made)`, '-'.repeat(40)];
  lines.push(`  sources: ${setup.sources.join(', ')}`);
  for (const d of setup.destinations) lines.push(`  destination "${d.name}" (${d.type}): ${copyCommand(d)}`);
  const local = setup.destinations.find((d) => d.type === 'local');
  const example = local?.type === 'local' ? local.path : './copy';
  lines.push('', `  for example: sh restore.sh ${example} ${setup.sources[0] ?? 'SOURCE'} ./restored`);
  return `${lines.join('\n')}\n`;
}
