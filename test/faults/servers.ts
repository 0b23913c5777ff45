import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers, initCluster, launchCluster } from '../../infra/postgres';
import { launch, waitUntilReady } from '../../infra/supervise';
import { devServerArgs, serving, temporalCli } from '../../infra/temporal';
import { openDatabase } from '../../platform/database';
import type { TestDatabase } from '../databases';

/**
 * Servers a fault case owns: it stops and restarts them, so they are never the shared stack's (other
 * people's tests run on those). Each lives in its own temp directory on its own loopback ports, and
 * only the process started here is ever signalled.
 */
export interface OwnServer {
  /** Where clients reach it: host:port for Temporal, a postgres:// URL for PostgreSQL. */
  address: string;
  /** Stops the server with `signal` (without waiting for a clean exit if SIGKILL). */
  stop(signal: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same data and waits until it answers. */
  start(): Promise<void>;
  /** Stops it for good and removes its data. */
  remove(): Promise<void>;
}

const free = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });

/** A base port with `offsets` from it all free (random, so parallel runs rarely collide). */
async function freePorts(offsets: number[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000);
    let ok = true;
    for (const o of offsets) if (!(await free(base + o))) ok = false;
    if (ok) return base;
  }
  throw new Error('no free loopback ports');
}

function ownServer(name: string, dir: string, address: string, spawnIt: () => ChildProcess, ready: () => Promise<boolean>) {
  let child: ChildProcess | undefined;
  const stop = async (signal: NodeJS.Signals) => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = once(c, 'exit');
    c.kill(signal);
    await exited;
  };
  const server: OwnServer = {
    address,
    stop,
    async start() {
      child = spawnIt();
      await waitUntilReady(name, ready, { child, timeoutMs: 180_000 });
    },
    async remove() {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** A Temporal dev server persisted to a SQLite file of its own: a restart resumes every workflow. */
export async function ownTemporal(label: string): Promise<OwnServer> {
  const dir = mkdtempSync(join(tmpdir(), 'trapeze-faults-temporal-'));
  // gRPC, HTTP (+10), metrics (+11), UI (+20).
  const port = await freePorts([0, 10, 11, 20]);
  const address = `127.0.0.1:${port}`;
  const args = devServerArgs({ port, uiPort: port + 20, dbFilename: join(dir, 'temporal.db') });
  const server = ownServer(
    `faults-temporal-${label}`,
    dir,
    address,
    () => launch(`faults-temporal-${label}`, temporalCli(), args),
    () => serving(address),
  );
  await server.start();
  return server;
}

/** A PostgreSQL cluster of its own (initdb in a temp directory) whose `postgres` database is the store. */
export async function ownPostgres(label: string): Promise<OwnServer & { store: TestDatabase }> {
  // The cluster directory itself is the temp directory: initCluster hands it to the postgres user.
  const dir = mkdtempSync(join(tmpdir(), 'trapeze-faults-pg-'));
  initCluster(dir);
  const port = await freePorts([0]);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const server = ownServer(
    `faults-postgres-${label}`,
    dir,
    url,
    () => launchCluster(`faults-postgres-${label}`, dir, port),
    () => answers(url),
  );
  await server.start();
  return {
    ...server,
    store: { kind: 'postgres', url, open: () => openDatabase(url), drop: () => server.remove() },
  };
}
