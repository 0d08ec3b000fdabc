import { availableParallelism } from 'node:os';

/**
 * The size for libuv's thread pool: one thread per CPU, at least 2, unless the user set
 * UV_THREADPOOL_SIZE. The pool seals, opens, reads and writes. Node's default of 4 threads on a
 * 2-CPU machine makes them preempt each other and the main thread: on the mixed bench set on
 * tmpfs, backup took 1.33 s with 4 threads and 1.19 s with 2, restore 1.48 s and 1.37 s.
 */
export function threadPoolSize(env: NodeJS.ProcessEnv, cpus = availableParallelism()): string {
  return env.UV_THREADPOOL_SIZE ?? String(Math.max(2, cpus));
}
