import type { ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { dataDir } from './paths';
import { launch, onPath, reused, run, terminate, waitUntilReady, type Service } from './supervise';

/** PG_BIN, then initdb on the PATH, then Debian's layout; as root, Debian's package is installed if missing. */
export function postgresBin(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const found = onPath('initdb');
  if (found) return join(found, '..');
  const debian = () => {
    const root = '/usr/lib/postgresql';
    if (!existsSync(root)) return undefined;
    const newest = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
    return newest && existsSync(join(root, newest, 'bin', 'initdb')) ? join(root, newest, 'bin') : undefined;
  };
  const bin = debian();
  if (bin) return bin;
  if (process.getuid?.() === 0) {
    console.log("installing Debian's postgresql package");
    run('apt-get', ['install', '-y', '-q', 'postgresql'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    const installed = debian();
    if (installed) return installed;
  }
  throw new Error('PostgreSQL not found: set PG_BIN or DATABASE_URL, or install the postgresql package');
}

export async function answers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user. */
export function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return { uid: Number(run('id', ['-u', 'postgres']).trim()), gid: Number(run('id', ['-g', 'postgres']).trim()) };
}

/**
 * A postgres:// DATABASE_URL (or POSTGRES_URL) means "use that server, start none"; one already
 * answering on the port is reused; otherwise a throwaway cluster is initialised under `.data/`.
 */
export async function ensurePostgres({ port = 5433 }: { port?: number } = {}): Promise<Service> {
  const explicit = [process.env.POSTGRES_URL, process.env.DATABASE_URL].find((u) => u?.startsWith('postgres'));
  if (explicit) {
    await waitUntilReady('postgres', () => answers(explicit), { timeoutMs: 30_000 });
    return reused('postgres', explicit);
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  if (await answers(url).catch(() => false)) return reused('postgres', url);

  const dir = join(dataDir, 'postgres');
  const child = launchCluster('postgres', initCluster(dir), port);
  await waitUntilReady('postgres', () => answers(url), { child });
  return { name: 'postgres', address: url, started: true, stop: () => terminate(child) };
}

/** Initialises a throwaway cluster in `dir` (kept if already there) and returns `dir`. */
export function initCluster(dir: string): string {
  const user = serverUser();
  mkdirSync(dir, { recursive: true });
  if (user) chownSync(dir, user.uid, user.gid);
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    run(join(postgresBin(), 'initdb'), ['-D', dir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync'], {
      ...user,
      cwd: dir,
    });
  }
  return dir;
}

/**
 * Runs the cluster in `dir` on a loopback port, as the `postgres` user when we are root. Its
 * process answers SIGTERM/SIGINT/SIGQUIT as `pg_ctl stop -m smart/fast/immediate` do.
 */
export function launchCluster(name: string, dir: string, port: number): ChildProcess {
  return launch(
    name,
    join(postgresBin(), 'postgres'),
    [
      '-D',
      dir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'fsync=off',
      '-c',
      'max_connections=200',
    ],
    { ...serverUser(), cwd: dir },
  );
}
