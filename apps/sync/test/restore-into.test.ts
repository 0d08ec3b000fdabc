import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('removeTree', () => {
  it('removes a failed restore that holds read-only folders, which plain rm cannot', () => {
    // Root ignores folder modes, so as root the attempt runs in a child process as `nobody`.
    const script = `import('${new URL('../dist/archive/restore-into.js', import.meta.url).href}').then(async ({ removeTree }) => {
      const fs = await import('node:fs');
      const { join } = await import('node:path');
      const root = fs.mkdtempSync('/tmp/coffer-remove-');
      fs.mkdirSync(join(root, 'photos/2024'), { recursive: true });
      fs.writeFileSync(join(root, 'photos/2024/a.jpg'), 'x');
      fs.chmodSync(join(root, 'photos/2024'), 0o555);
      fs.chmodSync(join(root, 'photos'), 0o555);
      let plain = 'removed';
      try { fs.rmSync(root, { recursive: true, force: true }); } catch (err) { plain = err.code; }
      await removeTree(root);
      console.log(JSON.stringify({ plain, gone: !fs.existsSync(root) }));
    })`;
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { ...asNobody, cwd: '/' }).toString();
    expect(JSON.parse(out)).toEqual({ plain: 'EACCES', gone: true });
  });
});
