import { expect } from 'vitest';
import { coffer, cofferAsync, listJson } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Times one `coffer backup`, then `trials` times: `change(trial)`, start a backup, kill -9 it at a
 * random moment within `spread` times that duration, and check that at least one backup is listed
 * and every listed backup verifies in full. Returns how many backups were killed while running.
 */
export async function killCampaign(dir: string, trials: number, change: (trial: number) => void, spread = 1.1): Promise<number> {
  const started = Date.now();
  expect(coffer(['backup', '--config', 'coffer.yaml'], { cwd: dir }).code).toBe(0);
  const duration = Date.now() - started;
  let killedMidway = 0;
  for (let trial = 0; trial < trials; trial++) {
    change(trial);
    const child = cofferAsync(['backup', '--config', 'coffer.yaml'], { cwd: dir });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Spread kills over the whole run: start-up, upload, verification, rotation and collection.
    await sleep(Math.floor(Math.random() * duration * spread));
    const stillRunning = child.exitCode === null;
    child.kill('SIGKILL');
    await exited;
    if (stillRunning) killedMidway += 1;
    const listed = listJson(dir);
    expect(listed.length, `trial ${trial}: no backup left`).toBeGreaterThanOrEqual(1);
    for (const b of listed) {
      const v = coffer(['verify', b.id, '--config', 'coffer.yaml'], { cwd: dir });
      expect(v.code, `trial ${trial}: backup ${b.id} does not verify: ${v.stderr}`).toBe(0);
    }
  }
  return killedMidway;
}
