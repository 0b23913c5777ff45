import { NativeConnection, Worker, type WorkerDeploymentOptions, type WorkerOptions } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { activitiesOf, createParticipants, participantMigrations, type Faults } from '../activities';
import { dataConverter } from '../platform/codec/data-converter';
import { describeKeyring } from '../platform/codec/keyring';
import { openDatabase, type Database } from '../platform/database';
import { migrate } from '../platform/migrations';
import { assertNondeterminismContained } from '../platform/containment';
import { bundleWorkflows, sagaDeploymentOptions, verifiedBuildId, workflowInterceptorModules } from '../platform/deployment';
import { setupTracing, workerTracing } from '../platform/tracing';
import { TASK_QUEUE, WORKFLOW_TYPE } from '../workflows/definitions';
import { readConfig, type Config } from '../platform/config';
import { serveHealth, shutdownOnSignals, type HealthServer } from '../platform/health';
import { createLogger } from '../platform/log';
import { sagaMetrics, sagaSinks, type SagaMetrics } from './saga-metrics';
import { installSdkLogging, onWorkflowTaskFailure } from './sdk-logging';

/**
 * The saga worker: runs the order saga (workflows/) and its participants (activities/) on the
 * `trapeze-sagas` task queue, against the ledgers+outbox database. Serves /healthz, /readyz
 * (the worker is polling) and /metrics; SIGTERM/SIGINT drain in-flight tasks, then exit.
 */
export interface SagaWorkerOptions {
  connection: NativeConnection;
  db: Database;
  namespace?: string;
  taskQueue?: string;
  /** A prebuilt bundle (tests build one per file); otherwise workflows/ is bundled at start. */
  workflowBundle?: { code: string };
  workerDeploymentOptions?: WorkerDeploymentOptions;
  faults?: Faults;
  identity?: string;
  /** From dataConverter(keyring): encrypts what the worker sends, decrypts what it reads. Default: plain JSON. */
  dataConverter?: DataConverter;
  /** Business metrics (started, ended, compensations, stuck undos, escalations); default: counted nowhere. */
  metrics?: SagaMetrics;
}

/** The Worker alone, wired to the given connection and database (tests, in-process use). */
export async function createSagaWorker(o: SagaWorkerOptions): Promise<Worker> {
  const workflowsPath = require.resolve('../workflows');
  // The bundle's interceptors call these sinks: traces (dropped unless tracing is set up) and metrics.
  const tracing = workerTracing();
  const metrics = o.metrics ?? sagaMetrics(new Registry());
  const options: WorkerOptions = {
    connection: o.connection,
    namespace: o.namespace ?? 'default',
    taskQueue: o.taskQueue ?? TASK_QUEUE,
    ...(o.workflowBundle ? { workflowBundle: o.workflowBundle } : { workflowsPath }),
    interceptors: {
      activity: [...(tracing.interceptors.activity ?? []), metrics.activity],
      ...(o.workflowBundle ? {} : { workflowModules: workflowInterceptorModules(workflowsPath) }),
    },
    sinks: sagaSinks(metrics),
    activities: activitiesOf(createParticipants(o.db, o.faults ? { faults: o.faults } : {})),
    ...(o.workerDeploymentOptions ? { workerDeploymentOptions: o.workerDeploymentOptions } : {}),
    ...(o.identity ? { identity: o.identity } : {}),
    ...(o.dataConverter ? { dataConverter: o.dataConverter } : {}),
  };
  // Nondeterminism after a bad deploy must stall the workflow task, never fail (and so strand) a saga.
  assertNondeterminismContained(options, [WORKFLOW_TYPE]);
  return Worker.create(options);
}

export interface SagaWorker {
  worker: Worker;
  health: HealthServer;
  stop(): Promise<void>;
}

/** The whole role: database migrated, worker running, health endpoints served. */
export async function startSagaWorker({
  config,
  log = createLogger('saga-worker', config.logLevel),
  db: shared,
  faults,
}: {
  config: Config;
  log?: Logger;
  /** In-process use (npm start): share the process's one Database, SQLite above all. */
  db?: Database;
  faults?: Faults;
}): Promise<SagaWorker> {
  // Bundled here, not by Worker.create, so that the build id is derived from (and checked
  // against) exactly the code this worker will run; before anything else, so a mismatch stops
  // the process before it touches the database or the server.
  const workflowBundle = await bundleWorkflows(require.resolve('../workflows'));
  const tracing = setupTracing({ serviceName: 'trapeze-saga-worker' });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = sagaMetrics(registry);
  const unlisten = onWorkflowTaskFailure((reason) => metrics.workflowTaskFailed(reason));
  const buildId = config.saga.versioning ? verifiedBuildId(workflowBundle, config.saga.buildId) : undefined;
  const db = shared ?? openDatabase(config.databaseUrl);
  await migrate(db, participantMigrations);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await createSagaWorker({
    connection,
    db,
    namespace: config.temporal.namespace,
    taskQueue: config.saga.taskQueue,
    workflowBundle,
    ...(buildId ? { workerDeploymentOptions: sagaDeploymentOptions({ behavior: config.saga.versioningBehavior, buildId }) } : {}),
    ...(faults ? { faults } : {}),
    dataConverter: dataConverter(config.payloads.keyring),
    metrics,
  });
  log.info(describeKeyring(config.payloads.keyring));
  const done = worker.run();
  done.catch((err: unknown) => log.error({ err: String(err) }, 'saga worker stopped with an error'));
  const health = await serveHealth({
    port: config.saga.httpPort,
    registry,
    live: () => worker.getState() !== 'FAILED',
    ready: () => worker.getState() === 'RUNNING',
  });
  log.info(
    { taskQueue: config.saga.taskQueue, temporal: config.temporal.address, port: health.port, ...(buildId ? { buildId } : {}) },
    'saga worker up',
  );
  return {
    worker,
    health,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done.catch(() => undefined);
      await tracing.forceFlush();
      await health.close();
      await connection.close();
      unlisten();
      if (!shared) await db.close();
    },
  };
}

if (require.main === module) {
  const config = readConfig();
  const log = createLogger('saga-worker', config.logLevel);
  installSdkLogging(log, config.logLevel);
  startSagaWorker({ config, log }).then(
    (w) => shutdownOnSignals(log, [() => w.stop()]),
    (err: unknown) => {
      log.fatal({ err: String(err) }, 'saga worker failed to start');
      process.exit(1);
    },
  );
}
