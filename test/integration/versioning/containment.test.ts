// Invariant: a worker that meets a history its code cannot replay fails the workflow TASK, never
// the saga: the execution stays running and visible as a reported problem, and deploying code that
// replays it lets it carry on to its normal end.
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { participantMigrations } from '../../../activities';
import { restock } from '../../../activities/inventory/ledger';
import { createOrderClient } from '../../../api/client';
import { migrate } from '../../../platform/migrations';
import { releaseWorkflows } from '../../../versioning/releases';
import { bundleWorkflows, sagaSinks, sagaWorkflowsPath } from '../../../versioning/replay';
import { createSagaWorker } from '../../../workers/saga-worker';
import { prematureRelease18 } from '../../../versioning/variants';
import { workflowIdFor } from '../../../domain/ids';
import { sqliteDatabase } from '../../databases';
import { anOrder, uniqueId } from '../workflows/harness';
import { temporalAddress, temporalNamespace } from '../../env';
import { waitUntil } from '../../wait';

const EventType = temporal.api.enums.v1.EventType;
const Cause = temporal.api.enums.v1.WorkflowTaskFailedCause;
let connection: Connection;
let native: NativeConnection;
let client: Client;
let released: WorkflowBundle;
let broken: WorkflowBundle;

before(async () => {
  connection = await Connection.connect({ address: temporalAddress() });
  native = await NativeConnection.connect({ address: temporalAddress() });
  client = new Client({ connection, namespace: temporalNamespace() });
  released = await bundleWorkflows(require.resolve('../../fixtures/deployment/workflows'));
  broken = await bundleWorkflows(require.resolve('../../fixtures/deployment/changed/workflows'));
});

after(async () => {
  await native.close();
  await connection.close();
});

test('a nondeterministic deploy stalls the saga instead of failing it, and the fix resumes it', async () => {
  const suffix = Math.random().toString(36).slice(2, 8);
  const taskQueue = `containment-${suffix}`;
  const worker = (workflowBundle: WorkflowBundle) =>
    Worker.create({
      namespace: temporalNamespace(),
      connection: native,
      taskQueue,
      workflowBundle,
      stickyQueueScheduleToStartTimeout: '1s',
      sinks: sagaSinks(),
    });

  const handle = await client.workflow.start<() => Promise<string>>('waitForProceed', {
    taskQueue,
    workflowId: `containment-${suffix}`,
  });
  const v1 = await worker(released);
  await v1.runUntil(
    waitUntil(async () => (await handle.fetchHistory()).events?.some((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED), {
      what: 'the saga to reach its wait point on the released code',
    }),
  );

  const bad = await worker(broken);
  await bad.runUntil(async () => {
    await handle.signal('proceed');
    await waitUntil(
      async () =>
        (await handle.fetchHistory()).events?.some(
          (e) => e.workflowTaskFailedEventAttributes?.cause === Cause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR,
        ),
      { what: 'the broken code to fail the workflow task as nondeterministic' },
    );
    // Temporal retries the failing task (the UI shows it pending with its failure); the saga waits.
    await waitUntil(async () => ((await handle.describe()).raw.pendingWorkflowTask?.attempt ?? 0) > 1, {
      what: 'the failing workflow task to be retried',
    });
    const stalled = await handle.describe();
    assert.equal(stalled.status.name, 'RUNNING', 'the saga is not failed by nondeterminism');
    assert.ok((stalled.raw.pendingWorkflowTask?.attempt ?? 0) > 1, 'the workflow task is being retried');
  });

  const began = Date.now();
  const fixed = await worker(released);
  const result = await fixed.runUntil(handle.result());
  console.log(`resumed ${Date.now() - began} ms after the fix was deployed`);
  assert.equal(result, 'done');
  assert.equal((await handle.describe()).status.name, 'COMPLETED');
});

test('an order saga met by code that cannot replay it waits, visible, and finishes once a build that can is deployed', async () => {
  const store = sqliteDatabase();
  const db = store.open();
  await migrate(db, participantMigrations);
  await db.transaction((tx) => restock(tx, { beans: 100, mug: 100 }));
  const release14 = releaseWorkflows('1.4');
  try {
    const taskQueue = uniqueId('containment-saga');
    const orders = createOrderClient(client, { taskQueue });
    const worker = async (workflowsPath: string) =>
      createSagaWorker({
        namespace: temporalNamespace(),
        connection: native,
        db,
        taskQueue,
        workflowBundle: await bundleWorkflows(workflowsPath),
      });
    const orderId = uniqueId('contained');
    const handle = client.workflow.getHandle(workflowIdFor(orderId));
    const statusIs = async (s: string) => (await orders.getOrder(orderId).catch(() => undefined))?.status === s;

    // Started on release 1.4, waiting for the payment provider's webhook.
    await (
      await worker(release14.workflowsPath)
    ).runUntil(async () => {
      await orders.startOrder(anOrder({ orderId, payment: { methodToken: 'tok_async' } }));
      await waitUntil(() => statusIs('AWAITING_PAYMENT'), { what: 'the saga to wait for the webhook on 1.4' });
    });

    // A bad deploy: release 1.8 (deprecatePatch('fraud-screening') removed) while 1.4 sagas are open.
    const premature = prematureRelease18();
    await (
      await worker(premature.workflowsPath).finally(() => premature.remove())
    ).runUntil(async () => {
      await orders.reportPaymentResult(orderId, { authorizationId: `auth-${orderId}`, approved: true });
      await waitUntil(
        async () =>
          (await handle.fetchHistory()).events?.some(
            (e) => e.workflowTaskFailedEventAttributes?.cause === Cause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR,
          ),
        { what: 'the premature 1.8 code to fail the workflow task as nondeterministic' },
      );
      await waitUntil(async () => ((await handle.describe()).raw.pendingWorkflowTask?.attempt ?? 0) > 1, {
        what: 'the task to be retried',
      });
    });
    const stalled = await handle.describe();
    assert.equal(stalled.status.name, 'RUNNING', 'the saga is not failed');
    assert.deepEqual(stalled.searchAttributes.SagaStatus, ['AWAITING_PAYMENT'], 'operators still find it where it stopped');

    // The fix: the 1.5 build (the deprecated patch still called). The saga resumes and completes.
    await (
      await worker(sagaWorkflowsPath())
    ).runUntil(async () => {
      await waitUntil(() => statusIs('AWAITING_DISPATCH'), {
        what: 'the saga to resume on the 1.5 build',
        timeoutMs: 60_000,
      });
      assert.equal((await orders.confirmDispatch(orderId, { trackingNumber: 'TRK-FIXED' })).accepted, true);
      const outcome = await orders.orderOutcome(orderId);
      assert.equal(outcome.status, 'COMPLETED');
      // Screened once, on 1.4, before it waited.
      assert.ok(outcome.progress.patches.includes('fraud-screening'));
      assert.equal(outcome.progress.steps.filter((s) => s.name === 'screenOrder').length, 1);
    });
  } finally {
    release14.remove();
    await db.close();
    await store.drop();
  }
});
