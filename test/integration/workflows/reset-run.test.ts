// Invariant: an operator's reset never leaves money or goods held. A reset run knows only the
// history up to its reset point; the run it replaced may have done more (authorized the payment,
// reserved stock, allocated the shipment) before a cancellation, reapplied by the reset, stops the
// new run earlier. The reset run's compensation must undo those effects too. Found by the
// interleaving explorer (seed 20261201, case 1067): repaired with `saga reset --to
// before-misordered-update`, the order ended CANCELLED with its authorization still held.
// And the reset run's history replays on the SDK's replayer (the deploy gate, `trapeze replay`,
// the corpus), which runs it under its original run id: release 1.3 decided by the run id and
// could not be replayed there (Non-deprecated patch marker … undo-all-after-reset).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { restock } from '../../../activities/inventory/ledger';
import { createOrderClient } from '../../../api/client';
import { workflowIdFor } from '../../../domain/ids';
import { sagaSinks } from '../../../versioning/replay';
import { resetToPoint, taskThatScheduled } from '../../../versioning/reset-points';
import { createSagaWorker } from '../../../workers/saga-worker';
import { temporalAddress, temporalNamespace } from '../../env';
import { waitUntil } from '../../wait';
import { anOrder, bundle, reaches, startHarness, uniqueId, type SagaHarness } from './harness';

let h: SagaHarness;
let native: NativeConnection;
before(async () => {
  h = await startHarness();
  native = await NativeConnection.connect({ address: temporalAddress() });
});
after(async () => {
  await native.close();
  await h.stop();
});

test('a reset run stopped by a reapplied cancellation undoes what the replaced run did after the reset point', async () => {
  // Its own task queue and worker, so the test decides when workflow tasks are processed.
  const taskQueue = uniqueId('reset-run');
  const orders = createOrderClient(h.client, { taskQueue });
  const startWorker = async () => {
    const worker: Worker = await createSagaWorker({
      connection: native,
      db: h.db,
      namespace: temporalNamespace(),
      taskQueue,
      workflowBundle: await bundle(),
    });
    return { worker, running: worker.run() };
  };
  let w = await startWorker();
  const orderId = uniqueId('reset-run');
  const sku = `sku-${orderId}`;
  await h.db.transaction((tx) => restock(tx, { [sku]: 5 }));
  await orders.startOrder(anOrder({ orderId, lines: [{ sku, quantity: 2, unitPrice: { amount: 1000, currency: 'EUR' } }] }));
  await reaches({ orders }, orderId, 'AWAITING_DISPATCH', 120_000);
  w.worker.shutdown();
  await w.running;

  // Reset to the workflow task that scheduled the screening, before the payment was authorized.
  const workflowId = workflowIdFor(orderId);
  const point = taskThatScheduled(await h.client.workflow.getHandle(workflowId).fetchHistory(), 'screenOrder');
  assert.ok(point);
  assert.ok(await resetToPoint(h.client, workflowId, point, 'test: reset before the screening'));

  // The customer's cancellation reaches the new run before its first workflow task, as a reapplied
  // update does: sent while no worker runs, handled when the worker is back.
  const stage = temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage;
  const updateId = randomUUID();
  const cancelled = h.client.workflowService.updateWorkflowExecution({
    namespace: temporalNamespace(),
    workflowExecution: { workflowId },
    waitPolicy: { lifecycleStage: stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED },
    request: {
      meta: { updateId, identity: 'reset-run test' },
      input: {
        name: 'cancel',
        args: { payloads: [defaultPayloadConverter.toPayload({ reason: 'customer changed their mind' })] },
      },
    },
  });
  await waitUntil(
    () =>
      h.client.workflowService
        .pollWorkflowExecutionUpdate({
          namespace: temporalNamespace(),
          updateRef: { workflowExecution: { workflowId }, updateId },
          waitPolicy: { lifecycleStage: stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED },
        })
        .then(() => true)
        .catch(() => false),
    { what: 'the cancellation admitted by the server' },
  );
  w = await startWorker();
  try {
    await cancelled;
    const outcome = await orders.orderOutcome(orderId);
    assert.equal(outcome.status, 'CANCELLED');
    const q = <T>(sql: string) => h.db.transaction((tx) => tx.all<T>(sql, [orderId]));
    const auths = await q<{ status: string }>('SELECT status FROM payment_authorizations WHERE order_id = ?');
    const reservations = await q<{ status: string }>('SELECT status FROM stock_reservations WHERE order_id = ?');
    const shipments = await q<{ status: string }>('SELECT status FROM shipments WHERE order_id = ?');
    assert.ok(auths.length > 0 && reservations.length > 0 && shipments.length > 0, 'the replaced run had done its steps');
    assert.deepEqual(
      {
        auths: auths.filter((a) => a.status === 'authorized'),
        reservations: reservations.filter((r) => r.status === 'reserved'),
        shipments: shipments.filter((s) => s.status === 'allocated'),
      },
      { auths: [], reservations: [], shipments: [] },
      'nothing held for the cancelled order',
    );
    const compensated = await h.client.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await bundle(), sinks: sagaSinks() }, compensated, workflowId);
  } finally {
    w.worker.shutdown();
    await w.running;
  }
});
