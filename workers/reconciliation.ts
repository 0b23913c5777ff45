import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { participantMigrations } from '../activities';
import { connectClient } from '../api/connect';
import { configuredTokens, type Tokens } from '../platform/auth';
import { mountReconciliation, reconciliationRoutes } from '../api/reconciliation';
import { orderViewMigrations } from '../consumers/order-view/migrations';
import { dataConverter } from '../platform/codec/data-converter';
import { readConfig, type Config } from '../platform/config';
import { openDatabase, type Database } from '../platform/database';
import { registerHealthRoutes, shutdownOnSignals } from '../platform/health';
import { createHttpApp, listen } from '../platform/http';
import { createLogger } from '../platform/log';
import { migrate } from '../platform/migrations';
import { createReconciliationActivities } from '../reconciliation/activities';
import type { CheckSettings } from '../reconciliation/checks';
import { reconciliationMigrations } from '../reconciliation/findings';
import { reconciliationMetrics } from '../reconciliation/metrics';
import { ensureReconciliationSchedule } from '../reconciliation/schedule';
import { RECONCILIATION_TASK_QUEUE } from '../workflows/reconciliation-definitions';

/**
 * The reconciliation role: a worker on its own task queue (`trapeze-reconciliation`) running the
 * reconciliation workflow and its checks and repairs, the Schedule that starts it every interval,
 * and one HTTP port with /healthz, /readyz, /metrics (open, for probes and scrapers) and the
 * findings queue (/reconciliation/…, operator tokens only: API_TOKENS / API_TOKENS_FILE).
 */
export interface ReconciliationWorkerOptions {
  connection: NativeConnection;
  client: Client;
  db: Database;
  viewDb?: Database;
  namespace?: string;
  taskQueue?: string;
  settings: CheckSettings;
  registry?: Registry;
  dataConverter?: DataConverter;
  /** A prebuilt bundle (tests); otherwise workflows/reconciliation.ts is bundled at start. */
  workflowBundle?: { code: string };
}

/** The Worker alone, wired to the given connection, client and databases (tests, in-process use). */
export async function createReconciliationWorker(o: ReconciliationWorkerOptions): Promise<Worker> {
  const metrics = o.registry ? reconciliationMetrics(o.registry, o.db) : undefined;
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace ?? 'default',
    taskQueue: o.taskQueue ?? RECONCILIATION_TASK_QUEUE,
    ...(o.workflowBundle
      ? { workflowBundle: o.workflowBundle }
      : { workflowsPath: require.resolve('../workflows/reconciliation') }),
    ...(o.dataConverter ? { dataConverter: o.dataConverter } : {}),
    activities: createReconciliationActivities({
      db: o.db,
      ...(o.viewDb ? { viewDb: o.viewDb } : {}),
      client: o.client,
      settings: o.settings,
      ...(metrics ? { metrics } : {}),
    }),
  });
}

/** Everything the tables the checks read need, in order: ledgers and outbox, order view, findings. */
export async function migrateForReconciliation(db: Database, viewDb: Database = db): Promise<void> {
  await migrate(db, [...participantMigrations, ...reconciliationMigrations]);
  await migrate(viewDb, orderViewMigrations);
}

export interface ReconciliationWorker {
  worker: Worker;
  port: number;
  stop(): Promise<void>;
}

export async function startReconciliationWorker({
  config,
  log = createLogger('reconciliation', config.logLevel),
  db: shared,
  tokens = configuredTokens(config.api.tokens, (message) => log.error(message)),
}: {
  config: Config;
  log?: Logger;
  /** In-process use (npm start): share the process's one Database, SQLite above all. */
  db?: Database;
  /** Who may use the findings queue (operators); by default the configured API tokens. */
  tokens?: Tokens;
}): Promise<ReconciliationWorker> {
  if (!tokens.count().operator)
    log.warn('no operator token configured (API_TOKENS, API_TOKENS_FILE): every findings request is refused');
  const db = shared ?? openDatabase(config.databaseUrl);
  const viewDb = config.orderView.databaseUrl === config.databaseUrl ? db : openDatabase(config.orderView.databaseUrl);
  await migrateForReconciliation(db, viewDb);
  const { address, namespace } = config.temporal;
  const connection = await NativeConnection.connect({ address });
  const client = await connectClient({ address, namespace, keyring: config.payloads.keyring });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const { taskQueue } = config.reconciliation;
  const worker = await createReconciliationWorker({
    connection,
    client,
    db,
    viewDb,
    namespace,
    taskQueue,
    settings: config.reconciliation.checks,
    registry,
    dataConverter: dataConverter(config.payloads.keyring),
  });
  const done = worker.run();
  done.catch((err: unknown) => log.error({ err: String(err) }, 'reconciliation worker stopped with an error'));
  if (config.reconciliation.schedule) {
    const how = await ensureReconciliationSchedule(client, { intervalSeconds: config.reconciliation.intervalSeconds, taskQueue });
    log.info({ intervalSeconds: config.reconciliation.intervalSeconds, schedule: how }, 'reconciliation scheduled');
  }
  const routes = reconciliationRoutes({ db, client, taskQueue });
  const app = createHttpApp({ log, bodyLimit: 16 * 1024 });
  registerHealthRoutes(app, {
    registry,
    live: () => worker.getState() !== 'FAILED',
    ready: () => worker.getState() === 'RUNNING',
  });
  mountReconciliation(app, routes, tokens);
  const server = await listen(app, { port: config.reconciliation.httpPort, host: '0.0.0.0' });
  const { port } = server;
  log.info({ taskQueue, port }, 'reconciliation worker up');
  return {
    worker,
    port,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done.catch(() => undefined);
      await server.close();
      await client.connection.close();
      await connection.close();
      if (viewDb !== db) await viewDb.close();
      if (!shared) await db.close();
    },
  };
}

if (require.main === module) {
  const config = readConfig();
  const log = createLogger('reconciliation', config.logLevel);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  startReconciliationWorker({ config, log }).then(
    (w) => shutdownOnSignals(log, [() => w.stop()]),
    (err: unknown) => {
      log.fatal({ err: String(err) }, 'reconciliation worker failed to start');
      process.exit(1);
    },
  );
}
