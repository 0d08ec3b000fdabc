import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { tee, type TeeBranch } from './tee.js';

async function* chunks(parts: Uint8Array[], failAfter?: Error): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    yield part;
    await sleep(1);
  }
  if (failAfter) throw failAfter;
}

/** A consumer that keeps what it reads, after waiting `delayMs` before its first read. */
function collector(name: string, delayMs = 0) {
  const received: Buffer[] = [];
  const branch: TeeBranch = {
    name,
    consume: async (body) => {
      await sleep(delayMs);
      for await (const chunk of body) received.push(Buffer.from(chunk));
      return Buffer.concat(received).length;
    },
  };
  return { branch, received };
}

describe('tee', () => {
  it('hands every consumer exactly the bytes read, and hashes exactly those', async () => {
    const parts = Array.from({ length: 20 }, (_, i) => randomBytes(1000 + i * 997));
    const all = Buffer.concat(parts);
    const fast = collector('fast');
    const slow = collector('slow', 30);
    const result = await tee<number>(chunks(parts), [fast.branch, slow.branch], { checksums: new Set(['sha256']) });
    expect(Buffer.concat(fast.received).equals(all)).toBe(true);
    expect(Buffer.concat(slow.received).equals(all)).toBe(true);
    expect(result).toMatchObject({ size: all.length, allFailed: false, checksums: { sha256: createHash('sha256').update(all).digest('hex') } });
    expect(result.outcomes).toEqual([
      { name: 'fast', result: all.length, error: undefined },
      { name: 'slow', result: all.length, error: undefined },
    ]);
  });

  it('drops a consumer that fails; the others still get everything', async () => {
    const parts = Array.from({ length: 10 }, () => randomBytes(5000));
    const good = collector('good');
    const broken = new Error('provider said no');
    const bad: TeeBranch = {
      name: 'bad',
      consume: async (body) => {
        for await (const _ of body) throw broken;
      },
    };
    const result = await tee(chunks(parts), [bad, good.branch], { checksums: new Set() });
    expect(Buffer.concat(good.received).equals(Buffer.concat(parts))).toBe(true);
    expect(result.outcomes[0]).toMatchObject({ name: 'bad', error: broken });
    expect(result.allFailed).toBe(false);
  });

  it('stops reading once every consumer has failed', async () => {
    let read = 0;
    const endless = (async function* () {
      for (;;) {
        read++;
        yield randomBytes(1000);
        await sleep(1);
      }
    })();
    const bad: TeeBranch = { name: 'bad', consume: () => Promise.reject(new Error('unreachable')) };
    const result = await tee(endless, [bad], { checksums: new Set() });
    expect(result.allFailed).toBe(true);
    expect(read).toBeLessThan(10);
  });

  // A daemon stopped while its local destination was still opening the object crashed with an
  // unhandled 'error' event: the branch was destroyed before anything listened to it.
  it('a source that fails before a consumer starts reading rejects the tee and reaches the consumer, unhandled nowhere', async () => {
    const failure = new Error('the backup was interrupted');
    let consumerSaw: unknown;
    const late: TeeBranch = {
      name: 'late',
      consume: async (body) => {
        await sleep(50);
        try {
          for await (const _ of body);
        } catch (err) {
          consumerSaw = err;
          throw err;
        }
      },
    };
    await expect(tee(chunks([randomBytes(100)], failure), [late], { checksums: new Set() })).rejects.toBe(failure);
    expect(consumerSaw).toBe(failure);
  });
});
