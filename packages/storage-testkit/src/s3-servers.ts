import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { makePutReadAfterWrite } from './s3rver-read-after-write.js';

export interface S3Server {
  readonly endpoint: string;
  readonly bucket: string;
  stop(): Promise<void>;
}

export const TEST_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * moto_server, a real S3 emulator preinstalled on this machine image. Missing is a failure, never
 * a skip (restic's SkipDisallowed): a suite that silently does not run proves nothing.
 */
export async function startMoto(): Promise<S3Server> {
  if (spawnSync('sh', ['-c', 'command -v moto_server']).status !== 0) {
    throw new Error('moto_server is not installed: it ships with this machine image and the S3 suite requires it (it must not be skipped)');
  }
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const bucket = 'coffer-moto';
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(`${endpoint}/${bucket}`, { method: 'PUT' });
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('moto_server did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    bucket,
    stop: async () => {
      child.kill('SIGTERM');
    },
  };
}

/** s3rver from npm, in this process, on loopback, with PUTs made read-after-write (see the fix). */
export async function startS3rver(): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), 'coffer-s3rver-'));
  const bucket = 'coffer-s3rver';
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  makePutReadAfterWrite(server.store);
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    stop: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
