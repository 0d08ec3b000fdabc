import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Names of a local destination's uploads in progress: the writer's pid and host are in the name,
 * so a clean-up removes only what a dead writer left. Why: two machines (or two sources on one
 * machine) may write to one folder at once, and one must not delete the other's upload midway.
 */
const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
const NAME = /^(\d{1,10})-([0-9a-f]{8})-[0-9a-f]{24}\.part$/;

export const tempName = (): string => `${process.pid}-${HOST}-${randomBytes(12).toString('hex')}.part`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a leftover may be removed: a writer on this host whose process is gone; a writer on
 * another host (or a name from an older version) only once the file is `olderThanMs` old.
 */
export function isAbandoned(name: string, modifiedAt: Date, olderThanMs: number, now = Date.now()): boolean {
  const match = NAME.exec(name);
  if (match && match[2] === HOST) return !alive(Number(match[1]));
  return now - modifiedAt.getTime() >= olderThanMs;
}
