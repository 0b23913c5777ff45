// Invariant: a deployment never breaks a saga already running. Sagas started by release 1.4's
// workflow code (screened behind patched('fraud-screening'), whose marker is not deprecated) and
// waiting (for dispatch, for the payment webhook) finish once release 1.5 (deprecatePatch, screening
// unconditional; the current code) serves them, without being screened again, while new sagas are
// screened and record no fraud-screening marker (since 1.7 only the release's own, release-1-7), which
// release 1.8 can replay without the call. AUTO_UPGRADE sagas move to the 1.5 build; PINNED sagas
// stay on the 1.4 build until they finish, and the 1.4 build drains.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { participantMigrations } from '../../../activities';
import { restock } from '../../../activities/inventory/ledger';
import { createOrderClient, type OrderClient } from '../../../api/client';
import type { Database } from '../../../platform/database';
import { migrate } from '../../../platform/migrations';
import { buildOutcomes } from '../../../versioning/outcomes';
import { releaseWorkflows, repoRoot, type ScratchRepo } from '../../../versioning/releases';
import { bundleWorkflows, sagaWorkflowsPath } from '../../../versioning/replay';
import { Rollout } from '../../../versioning/worker-deployments';
import type { SagaVersioningBehavior } from '../../../platform/deployment';
import { createSagaWorker } from '../../../workers/saga-worker';
import { workflowIdFor } from '../../../domain/ids';
import { type SagaStatus } from '../../../domain/saga';
import { sqliteDatabase, type TestDatabase } from '../../databases';
import { temporalAddress, temporalNamespace } from '../../env';
import { waitUntil } from '../../wait';
import { anOrder, eventsOf, uniqueId } from '../workflows/harness';

let store: TestDatabase;
let db: Database;
let connection: Connection;
let native: NativeConnection;
let client: Client;
let release14: ScratchRepo;
let bundle14: { code: string };
let bundle15: { code: string };

before(async () => {
  store = sqliteDatabase();
  db = store.open();
  await migrate(db, participantMigrations);
  await db.transaction((tx) => restock(tx, { beans: 1000, mug: 1000 }));
  connection = await Connection.connect({ address: temporalAddress() });
  native = await NativeConnection.connect({ address: temporalAddress() });
  client = new Client({ connection, namespace: temporalNamespace() });
  // Release 1.4 exactly as committed, materialised from git; 1.5 is the working tree.
  release14 = releaseWorkflows('1.4');
  bundle14 = await bundleWorkflows(release14.workflowsPath);
  bundle15 = await bundleWorkflows(sagaWorkflowsPath());
});

after(async () => {
  release14.remove();
  await native.close();
  await connection.close();
  await db.close();
  await store.drop();
});

interface Deployment {
  rollout: Rollout;
  orders: OrderClient;
  start(build: '1.4' | '1.5'): Promise<{ worker: Worker; stop(): Promise<void> }>;
}

function deployment(behavior: SagaVersioningBehavior): Deployment {
  const deploymentName = uniqueId(`midflight-${behavior.toLowerCase()}`);
  const taskQueue = deploymentName;
  const rollout = new Rollout(connection, deploymentName, temporalNamespace());
  return {
    rollout,
    orders: createOrderClient(client, { taskQueue }),
    async start(build) {
      const worker = await createSagaWorker({
        namespace: temporalNamespace(),
        connection: native,
        db,
        taskQueue,
        workflowBundle: build === '1.4' ? bundle14 : bundle15,
        workerDeploymentOptions: {
          useWorkerVersioning: true,
          version: { deploymentName, buildId: build },
          defaultVersioningBehavior: behavior,
        },
      });
      const running = worker.run();
      // The build becomes a deployment version once its pollers reach the server; promote then.
      await waitUntil(() => rollout.promote(build).then(() => true), {
        what: `build ${build} to be promotable`,
        intervalMs: 300,
      });
      return {
        worker,
        async stop() {
          worker.shutdown();
          await running;
        },
      };
    },
  };
}

const status = (orders: OrderClient, orderId: string, s: SagaStatus) =>
  waitUntil(async () => (await orders.getOrder(orderId).catch(() => undefined))?.status === s, {
    what: `${orderId} to reach ${s}`,
  });

const buildOf = async (orderId: string) =>
  (await client.workflow.getHandle(workflowIdFor(orderId)).describe()).raw.workflowExecutionInfo?.versioningInfo
    ?.deploymentVersion?.buildId;

async function finish(orders: OrderClient, orderId: string): Promise<string> {
  const answer = await orders.confirmDispatch(orderId, { trackingNumber: `TRK-${orderId}` });
  assert.equal(answer.accepted, true, `dispatch of ${orderId} accepted`);
  return (await orders.orderOutcome(orderId)).status;
}

/** Screened after submission, before any money was held (authorized, or pending the webhook), and once only. */
async function screenedOnce(orders: OrderClient, orderId: string) {
  const events = await eventsOf(db, orderId);
  assert.deepEqual(events.slice(0, 2), ['OrderSubmitted', 'FraudScreened'], `${orderId}: ${events.join(', ')}`);
  assert.match(events[2] ?? '', /^PaymentAuthori/, `${orderId}: ${events.join(', ')}`);
  assert.equal(events.filter((e) => e === 'FraudScreened').length, 1, `${orderId} screened once`);
  assert.ok((await orders.getOrder(orderId)).patches.includes('fraud-screening'));
}

/** Whether the saga's fraud-screening marker is deprecated: patched() (1.4) wrote false, deprecatePatch() (1.5) true. */
/** The patch markers a saga's history holds, in order. */
async function patchMarkers(orderId: string): Promise<{ id: string; deprecated: boolean }[]> {
  const history = await client.workflow.getHandle(workflowIdFor(orderId)).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const data = event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
    if (!data) return [];
    const { id, deprecated } = JSON.parse(Buffer.from(data).toString('utf8')) as { id: string; deprecated: boolean };
    return [{ id, deprecated }];
  });
}

async function markerDeprecated(orderId: string): Promise<boolean | undefined> {
  return (await patchMarkers(orderId)).find((m) => m.id === 'fraud-screening')?.deprecated;
}

test('AUTO_UPGRADE: sagas waiting on 1.4 finish under 1.5 without a second screening; new sagas are screened', async () => {
  const d = deployment('AUTO_UPGRADE');
  const v14 = await d.start('1.4');
  const atDispatch = [uniqueId('mf-auto-dispatch'), uniqueId('mf-auto-dispatch')];
  const atPayment = uniqueId('mf-auto-payment');
  for (const orderId of atDispatch) await d.orders.startOrder(anOrder({ orderId }));
  await d.orders.startOrder(anOrder({ orderId: atPayment, payment: { methodToken: 'tok_async' } }));
  for (const orderId of atDispatch) await status(d.orders, orderId, 'AWAITING_DISPATCH');
  await status(d.orders, atPayment, 'AWAITING_PAYMENT');
  await v14.stop();

  const v15 = await d.start('1.5');
  try {
    for (const orderId of atDispatch) {
      assert.equal(await finish(d.orders, orderId), 'COMPLETED');
      await screenedOnce(d.orders, orderId);
      assert.equal(await markerDeprecated(orderId), false, 'the marker 1.4 wrote');
      assert.equal(await buildOf(orderId), '1.5', 'the saga moved to the new build');
    }
    await d.orders.reportPaymentResult(atPayment, { authorizationId: `auth-${atPayment}`, approved: true });
    await status(d.orders, atPayment, 'AWAITING_DISPATCH');
    assert.equal(await finish(d.orders, atPayment), 'COMPLETED');
    await screenedOnce(d.orders, atPayment);

    const fresh = uniqueId('mf-auto-new');
    await d.orders.startOrder(anOrder({ orderId: fresh }));
    await status(d.orders, fresh, 'AWAITING_DISPATCH');
    await screenedOnce(d.orders, fresh);
    // Since release 1.7 a new saga records one marker for the release, which stands for the
    // screening: no fraud-screening marker at all, so 1.8 replays it without the call too.
    assert.deepEqual(
      await patchMarkers(fresh),
      [{ id: 'release-1-7', deprecated: false }],
      'the current code writes only its release marker',
    );
    assert.equal(await finish(d.orders, fresh), 'COMPLETED');

    const fraud = uniqueId('mf-auto-fraud');
    await d.orders.startOrder(anOrder({ orderId: fraud, payment: { methodToken: 'tok_fraud' } }));
    const rejected = await d.orders.orderOutcome(fraud);
    assert.equal(rejected.status, 'REJECTED');
    assert.deepEqual(await eventsOf(db, fraud), ['OrderSubmitted', 'FraudScreened', 'OrderCancelled']);
  } finally {
    await v15.stop();
  }
});

test('PINNED: sagas started on 1.4 stay on the 1.4 build until they finish; new sagas go to 1.5', async () => {
  const d = deployment('PINNED');
  const v14 = await d.start('1.4');
  const old = [uniqueId('mf-pinned-old'), uniqueId('mf-pinned-old')];
  for (const orderId of old) await d.orders.startOrder(anOrder({ orderId }));
  for (const orderId of old) await status(d.orders, orderId, 'AWAITING_DISPATCH');
  const since = new Date(Date.now() - 60_000);

  const v15 = await d.start('1.5');
  try {
    const fresh = uniqueId('mf-pinned-new');
    await d.orders.startOrder(anOrder({ orderId: fresh }));
    await status(d.orders, fresh, 'AWAITING_DISPATCH');
    assert.equal(await buildOf(fresh), '1.5');
    await screenedOnce(d.orders, fresh);
    for (const orderId of old) assert.equal(await buildOf(orderId), '1.4', 'pinned to the build it started on');

    const view = await d.rollout.status();
    assert.equal(view.current, '1.5');
    assert.equal(view.versions.find((v) => v.buildId === '1.4')?.openSagas, 2, 'the old build still has work: keep its workers');

    // The 1.4 workers stay up while the build drains: the pinned sagas finish there.
    for (const orderId of old) {
      assert.equal(await finish(d.orders, orderId), 'COMPLETED');
      await screenedOnce(d.orders, orderId);
      assert.equal(await buildOf(orderId), '1.4');
    }
    assert.equal(await finish(d.orders, fresh), 'COMPLETED');
    await waitUntil(async () => (await d.rollout.status()).versions.find((v) => v.buildId === '1.4')?.openSagas === 0, {
      what: 'the 1.4 build to have no open sagas left',
    });

    // The canary numbers come from the same visibility records: two completed on 1.4, one on 1.5.
    const common = { deploymentName: d.rollout.deploymentName, workflowType: 'orderFulfillment', since, stuckAfterMs: 3_600_000 };
    await waitUntil(async () => (await buildOutcomes(client, { ...common, buildId: '1.4' })).completed === 2, {
      what: 'visibility of 1.4 outcomes',
    });
    const canary = await buildOutcomes(client, { ...common, buildId: '1.5' });
    assert.equal(canary.completed, 1);
    assert.equal(canary.failed + canary.stuck + canary.running, 0);

    // The operator's command over the same data: one closed saga on the canary is too few to promote.
    const cli = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'cli/trapeze.ts', 'canary', '--baseline', '1.4', '--canary', '1.5', '--since', '10'],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: temporalAddress(),
          TEMPORAL_NAMESPACE: temporalNamespace(),
          SAGA_DEPLOYMENT_NAME: d.rollout.deploymentName,
        },
        encoding: 'utf8',
      },
    );
    assert.equal(cli.status, 2, cli.stderr);
    assert.match(cli.stdout, /only 1 closed sagas on 1\.5/);
    assert.match(cli.stdout, /verdict: hold$/m);
  } finally {
    await v15.stop();
    await v14.stop();
  }
});
