import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Postgres {
  readonly url: string;
  stop(): void;
}

/**
 * A throwaway PostgreSQL cluster on loopback (Debian's postgresql package). A missing server is a
 * failure, never a skip: the PostgreSQL store must be proven, not assumed.
 */
export async function startPostgres(): Promise<Postgres> {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort() : [];
  const bin = versions.length ? join('/usr/lib/postgresql', versions.at(-1)!, 'bin') : '';
  if (!bin || !existsSync(join(bin, 'initdb'))) throw new Error('PostgreSQL is not installed (Debian package "postgresql"); scripts/bootstrap.sh installs it');
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  const dir = mkdtempSync(join(tmpdir(), 'coffer-pg-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(dir, uid, gid);
  const asPostgres = (cmd: string) => {
    const r = spawnSync('su', ['postgres', '-c', cmd], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  };
  asPostgres(`${bin}/initdb -D ${dir}/data -A trust --no-sync -U postgres >/dev/null`);
  asPostgres(`${bin}/pg_ctl -D ${dir}/data -o "-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" -l ${dir}/log -w start >/dev/null`);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: () => {
      spawnSync('su', ['postgres', '-c', `${bin}/pg_ctl -D ${dir}/data -m immediate stop`]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
