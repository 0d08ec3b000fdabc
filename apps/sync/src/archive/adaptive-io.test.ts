import { describe, expect, it } from 'vitest';
import { AdaptiveIo } from './adaptive-io.js';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('AdaptiveIo', () => {
  it('blocks while calls are fast, and goes to the thread pool for good once one waits long', async () => {
    const io = new AdaptiveIo();
    const ways: string[] = [];
    const call = (ms: number) => io.run(() => (busy(ms), ways.push('blocking')), async () => ways.push('pooled'));
    for (let i = 0; i < 20; i++) await call(0);
    expect(ways.every((w) => w === 'blocking')).toBe(true);
    await call(12); // a disk seek, not a page-cache hit
    await call(0);
    await call(0);
    expect(ways.slice(-3)).toEqual(['blocking', 'pooled', 'pooled']);
  });

  it('goes to the thread pool once blocking calls average more than a page-cache hit', async () => {
    const io = new AdaptiveIo();
    let blocking = 0;
    for (let i = 0; i < 200; i++) await io.run(() => (busy(0.2), (blocking += 1)), async () => 0);
    expect(blocking).toBe(64); // judged after 64 calls
  });

  it('passes the blocking call’s errors and results through unchanged, and `false` always pools', async () => {
    const io = new AdaptiveIo();
    expect(io.run(() => 7, async () => 8)).toBe(7);
    expect(() => io.run(() => { throw Object.assign(new Error('gone'), { code: 'ENOENT' }); }, async () => 0)).toThrow('gone');
    await expect(new AdaptiveIo(false).run(() => 7, async () => 8)).resolves.toBe(8);
  });
});
