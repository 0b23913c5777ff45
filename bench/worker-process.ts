import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { activitiesOf, createParticipants } from '../activities';
import { dataConverter } from '../platform/codec/data-converter';
import { PayloadEnvironment } from '../platform/codec/settings';
import { openDatabase } from '../platform/database';

/**
 * One saga worker in a process of its own, for the benchmarks that measure a worker's memory
 * and CPU apart from the client driving it (`bench:waiting`, `bench:scaling`). It runs the bench
 * bundle (the order saga as it ships, and the bare workflow) with the participants on the given
 * database, already migrated by the parent. Tells its parent `ready` once polling; a `stop`
 * message drains it and ends the process.
 */
export interface BenchWorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  databaseUrl: string;
  /** The bundle the parent built once (each worker bundling again would cost seconds of CPU). */
  bundlePath: string;
  maxCachedWorkflows?: number;
  workflowPollers?: number;
  activityPollers?: number;
}

async function main(options: BenchWorkerOptions): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const db = openDatabase(options.databaseUrl);
  const connection = await NativeConnection.connect({ address: options.address });
  const keyring = PayloadEnvironment.parse(process.env).PAYLOAD_KEYS;
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: { codePath: options.bundlePath },
    activities: { ...activitiesOf(createParticipants(db)), noop: async (step: number) => step },
    dataConverter: dataConverter(keyring),
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    ...(options.workflowPollers !== undefined ? { maxConcurrentWorkflowTaskPolls: options.workflowPollers } : {}),
    ...(options.activityPollers !== undefined ? { maxConcurrentActivityTaskPolls: options.activityPollers } : {}),
  });
  const running = worker.run();
  process.on('message', (m) => {
    if (m === 'stop' && worker.getState() === 'RUNNING') worker.shutdown();
  });
  // The parent's start line: polling begins as soon as run() is called.
  process.send?.('ready');
  await running;
  await connection.close();
  await db.close();
  process.exit(0);
}

main(JSON.parse(process.argv[2] ?? '{}') as BenchWorkerOptions).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
