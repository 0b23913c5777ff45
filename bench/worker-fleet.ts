import { bundleWorkflowCode } from '@temporalio/worker';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { participantMigrations } from '../activities';
import { restock } from '../activities/inventory/ledger';
import { openDatabase, type Database } from '../platform/database';
import { migrate } from '../platform/migrations';
import type { BenchWorkerOptions } from './worker-process';

/**
 * What the process benchmarks share: a throwaway SQLite ledger (migrated, stocked), the bench
 * bundle built once, and saga workers started as child processes so that each one's RSS and CPU
 * are its own.
 */
export interface BenchGround {
  dir: string;
  databaseUrl: string;
  db: Database;
  bundlePath: string;
  dispose(): Promise<void>;
}

const quiet = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: console.error,
  log: () => undefined,
};

export async function prepareGround(): Promise<BenchGround> {
  const dir = mkdtempSync(join(tmpdir(), 'trapeze-bench-'));
  const databaseUrl = `sqlite:${join(dir, 'bench.db')}`;
  const db = openDatabase(databaseUrl);
  await migrate(db, participantMigrations);
  await db.transaction((tx) => restock(tx, { beans: 1_000_000_000 }));
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('./bare-workflow'), logger: quiet });
  const bundlePath = join(dir, 'workflows.js');
  writeFileSync(bundlePath, code);
  return {
    dir,
    databaseUrl,
    db,
    bundlePath,
    async dispose() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ChildWorker {
  pid: number;
  /** Drains the worker and waits for its process to end. */
  stop(): Promise<void>;
}

export async function startChildWorker(options: BenchWorkerOptions): Promise<ChildWorker> {
  const child = fork(join(__dirname, 'worker-process.ts'), [JSON.stringify(options)], { execArgv: ['--import', 'tsx'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(`worker said ${JSON.stringify(m)}`))));
    void exited.then((code) => reject(new Error(`the bench worker exited with ${code} before it was ready`)));
  });
  return {
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
