// Invariant: a saga that continues as new after a deploy starts its next run on the deployment's
// current version, under PINNED as under AUTO_UPGRADE. The next run starts from the carried state,
// not from the old run's history, so nothing of the old code must be replayed; a PINNED saga's run
// stays on its build until the hand-over (its pin is not inherited), and the old build drains.
// Both builds carry the current code: what is tested is where the server sends the next run.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { participantMigrations } from '../../../activities';
import { restock } from '../../../activities/inventory/ledger';
import { createOrderClient, type OrderClient } from '../../../api/client';
import { workflowIdFor } from '../../../domain/ids';
import type { SagaStatus } from '../../../domain/saga';
import type { Database } from '../../../platform/database';
import type { SagaVersioningBehavior } from '../../../platform/deployment';
import { migrate } from '../../../platform/migrations';
import { bundleWorkflows, sagaWorkflowsPath } from '../../../versioning/replay';
import { Rollout } from '../../../versioning/worker-deployments';
import { createSagaWorker } from '../../../workers/saga-worker';
import { sqliteDatabase, type TestDatabase } from '../../databases';
import { temporalAddress, temporalNamespace } from '../../env';
import { waitUntil } from '../../wait';
import { anOrder, uniqueId } from '../workflows/harness';

let store: TestDatabase;
let db: Database;
let connection: Connection;
let native: NativeConnection;
let client: Client;
let bundle: WorkflowBundle;

before(async () => {
  store = sqliteDatabase();
  db = store.open();
  await migrate(db, participantMigrations);
  await db.transaction((tx) => restock(tx, { beans: 1000, mug: 1000 }));
  connection = await Connection.connect({ address: temporalAddress() });
  native = await NativeConnection.connect({ address: temporalAddress() });
  client = new Client({ connection, namespace: temporalNamespace() });
  bundle = await bundleWorkflows(sagaWorkflowsPath());
});

after(async () => {
  await native.close();
  await connection.close();
  await db.close();
  await store.drop();
});

/**
 * A saga waiting for its payment result reaches the wait at about 30 events; at this limit it
 * hands over only after the foreign webhooks sent below (4 events each) have grown its history.
 */
const historyLimit = 60;

async function deployment(behavior: SagaVersioningBehavior) {
  const deploymentName = uniqueId(`can-${behavior.toLowerCase()}`);
  const taskQueue = deploymentName;
  const rollout = new Rollout(connection, deploymentName, temporalNamespace());
  const orders = createOrderClient(client, { taskQueue });
  const running: { stop(): Promise<void> }[] = [];
  return {
    orders,
    /** Starts a worker of `build` and makes it the current version. */
    async deploy(build: string) {
      const worker = await createSagaWorker({
        namespace: temporalNamespace(),
        connection: native,
        db,
        taskQueue,
        workflowBundle: bundle,
        workerDeploymentOptions: {
          useWorkerVersioning: true,
          version: { deploymentName, buildId: build },
          defaultVersioningBehavior: behavior,
        },
      });
      const run = worker.run();
      running.push({
        async stop() {
          worker.shutdown();
          await run;
        },
      });
      await waitUntil(() => rollout.promote(build).then(() => true), {
        what: `build ${build} to be promotable`,
        intervalMs: 300,
      });
    },
    async stop() {
      for (const r of running.reverse()) await r.stop();
    },
  };
}

const progressOf = (orders: OrderClient, orderId: string) => orders.getOrder(orderId).catch(() => undefined);

const status = (orders: OrderClient, orderId: string, s: SagaStatus) =>
  waitUntil(async () => (await progressOf(orders, orderId))?.status === s, {
    what: `${orderId} to reach ${s}`,
    timeoutMs: 60_000,
  });

/** The build a run ran its last workflow task on (the latest run without `runId`). */
async function buildOf(orderId: string, runId?: string) {
  const info = (await client.workflow.getHandle(workflowIdFor(orderId), runId).describe()).raw.workflowExecutionInfo;
  return info?.versioningInfo?.deploymentVersion?.buildId;
}

/** Grows a waiting saga's history with webhooks for someone else's authorization (ignored) until it continues as new. */
async function continueAsNew(orders: OrderClient, orderId: string) {
  const first = await client.workflow.getHandle(workflowIdFor(orderId)).describe();
  let sent = 0;
  await waitUntil(
    async () => {
      const p = await progressOf(orders, orderId);
      if ((p?.run ?? 1) >= 2 && p?.status === 'AWAITING_PAYMENT') return true;
      if ((p?.run ?? 1) === 1)
        await orders.reportPaymentResult(orderId, {
          authorizationId: `auth-someone-else-${++sent}`,
          approved: false,
          reason: 'not yours',
        });
      return false;
    },
    { what: `${orderId} to continue as new`, timeoutMs: 90_000, intervalMs: 300 },
  );
  const second = await client.workflow.getHandle(workflowIdFor(orderId)).describe();
  assert.notEqual(second.runId, first.runId, 'a new run');
  return { first: first.runId, second: second.runId };
}

/** The carried state is the whole saga: the next run takes the payment result and completes. */
async function finish(orders: OrderClient, orderId: string) {
  await orders.reportPaymentResult(orderId, { authorizationId: `auth-${orderId}`, approved: true });
  await status(orders, orderId, 'AWAITING_DISPATCH');
  const answer = await orders.confirmDispatch(orderId, { trackingNumber: `TRK-${orderId}` });
  assert.equal(answer.accepted, true);
  assert.equal((await orders.orderOutcome(orderId)).status, 'COMPLETED');
}

/**
 * Starts a saga on build `a`, deploys build `b` while it waits for its payment result, makes it
 * continue as new and finishes it. Returns the builds its runs ran on.
 */
async function continuedAfterDeploy(behavior: SagaVersioningBehavior) {
  const d = await deployment(behavior);
  try {
    await d.deploy('a');
    const orderId = uniqueId(`can-${behavior.toLowerCase()}`);
    await d.orders.startOrder(anOrder({ orderId, payment: { methodToken: 'tok_async' } }), { historyLimit });
    await status(d.orders, orderId, 'AWAITING_PAYMENT');
    assert.equal(await buildOf(orderId), 'a');

    await d.deploy('b');
    const runs = await continueAsNew(d.orders, orderId);
    const builds = { first: await buildOf(orderId, runs.first), second: await buildOf(orderId, runs.second) };
    await finish(d.orders, orderId);
    return { ...builds, completedOn: await buildOf(orderId) };
  } finally {
    await d.stop();
  }
}

test('PINNED: the run stays on its build until it continues as new; the next run starts on the current build', async () => {
  const runs = await continuedAfterDeploy('PINNED');
  assert.equal(runs.first, 'a', 'the first run stayed pinned to the build it started on');
  assert.equal(runs.second, 'b', 'the next run starts on the current build, not on the old pin');
  assert.equal(runs.completedOn, 'b', 'and is pinned there');
});

test('AUTO_UPGRADE: the run moves to the current build at its next task; the next run starts there too', async () => {
  const runs = await continuedAfterDeploy('AUTO_UPGRADE');
  assert.equal(runs.first, 'b', 'the first run moved at its next task after the deploy');
  assert.equal(runs.second, 'b');
  assert.equal(runs.completedOn, 'b');
});

test('unversioned workers (the embedded stack): the saga continues as new and completes as before', async () => {
  const taskQueue = uniqueId('can-unversioned');
  const orders = createOrderClient(client, { taskQueue });
  const worker = await createSagaWorker({
    namespace: temporalNamespace(),
    connection: native,
    db,
    taskQueue,
    workflowBundle: bundle,
  });
  const running = worker.run();
  try {
    const orderId = uniqueId('can-unversioned');
    await orders.startOrder(anOrder({ orderId, payment: { methodToken: 'tok_async' } }), { historyLimit });
    await status(orders, orderId, 'AWAITING_PAYMENT');
    await continueAsNew(orders, orderId);
    await finish(orders, orderId);
    assert.equal(await buildOf(orderId), undefined, 'no deployment version');
  } finally {
    worker.shutdown();
    await running;
  }
});
