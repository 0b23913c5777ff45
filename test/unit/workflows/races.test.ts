// Invariant: no interleaving of operators, customers, warehouses, providers and faults leaves an
// order half-done. An undo never runs while its step is still in flight; past an accepted dispatch
// the saga finishes its forward steps whatever anyone cancels; a dispatch is accepted only while
// the saga waits for it; an alert never undoes business; only the saga's own authorization is
// answered; and the history stays bounded however long an undo is stuck or however many messages come.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { workflowIdFor } from '../../../domain/ids';
import { parseOrder } from '../../../domain/order';
import { sagaQuery } from '../../../workflows/definitions';
import type { orderFulfillment } from '../../../workflows/order-fulfillment';
import { waitUntil } from '../../wait';
import { Hold, anOrder, cancellationProcessed, startSagaTestEnv, type SagaTestEnv } from './saga-harness';

let t: SagaTestEnv;
before(async () => {
  t = await startSagaTestEnv();
});
after(async () => {
  await t.stop();
});

const entered = (hold: Hold) => waitUntil(() => hold.entered, { what: 'the held call to start' });

test("an operator's cancellation while a capture is in flight waits for it, then refunds it", async () => {
  const capture = new Hold();
  const orderId = t.script('compensate-in-flight', { holds: { capturePayment: capture } });
  await t.orders.startOrder(anOrder(orderId, { payment: { methodToken: 'tok_ok', capture: 'at-confirmation' } }));
  await entered(capture);
  await t.handle(orderId).cancel();
  // The saga has seen the cancellation while the capture still holds: an early undo would have started now.
  await cancellationProcessed(t.handle(orderId));
  assert.ok(!t.calls(orderId).includes('refundPayment'), 'no undo runs while its step is in flight');
  capture.release();
  const result = await t.handle(orderId).result();
  assert.equal(result.status, 'CANCELLED');
  const calls = t.calls(orderId);
  assert.deepEqual(calls.slice(calls.indexOf('capturePayment') + 1), [
    'refundPayment',
    'cancelShipment',
    'releaseStock',
    'voidAuthorization',
    'cancelOrder',
  ]);
});

test("an operator's cancellation after dispatch still captures the payment and completes the order", async () => {
  const capture = new Hold();
  const orderId = t.script('cancel-after-dispatch', { holds: { capturePayment: capture } });
  await t.orders.startOrder(anOrder(orderId));
  await t.statusReaches(orderId, 'AWAITING_DISPATCH');
  await t.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-GONE' });
  await entered(capture);
  await t.handle(orderId).cancel();
  capture.release();
  const result = await t.handle(orderId).result();
  assert.equal(result.status, 'COMPLETED');
  assert.deepEqual(t.calls(orderId).slice(-3), ['recordDispatch', 'capturePayment', 'completeOrder']);
});

test('a dispatch is refused while the order is still being confirmed, so a failed confirmation undoes nothing that left', async () => {
  const confirmation = new Hold();
  const orderId = t.script('dispatch-early', {
    holds: { confirmOrder: confirmation },
    faults: { confirmOrder: { fail: Infinity } },
  });
  await t.orders.startOrder(anOrder(orderId));
  await entered(confirmation);
  const early = await t.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-EARLY' });
  assert.equal(early.accepted, false, 'the warehouse is told no while the saga is not waiting for it');
  confirmation.release();
  const result = await t.handle(orderId).result();
  assert.equal(result.status, 'FAILED');
  assert.ok(!t.calls(orderId).includes('recordDispatch'));
});

test('an escalation that keeps failing never undoes the order: the saga keeps waiting and completes', async () => {
  const orderId = t.script('escalation-fails', { faults: { escalateOrder: { fail: 12 } } });
  await t.orders.startOrder(anOrder(orderId));
  await t.statusReaches(orderId, 'AWAITING_DISPATCH');
  await t.env.sleep('3 days');
  const progressNow = await t.progress(orderId);
  await waitUntil(() => t.calls(orderId).filter((c) => c === 'escalateOrder').length >= 5, {
    what: 'escalation retries',
  }).catch((err: Error) => {
    throw new Error(`${err.message}; calls: ${t.calls(orderId).join(', ')}; status ${JSON.stringify(progressNow)}`);
  });
  const waiting = await t.progress(orderId);
  assert.ok(['AWAITING_DISPATCH', 'ESCALATED'].includes(waiting.status), `still waiting, not ${waiting.status}`);
  await t.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-LATE' });
  const result = await t.handle(orderId).result();
  assert.equal(result.status, 'COMPLETED');
  assert.ok(!t.calls(orderId).some((c) => c.startsWith('cancel') || c === 'voidAuthorization'));
});

test("a payment result for another authorization is ignored; the saga's own one counts", async () => {
  const orderId = t.script('forged-webhook', { authorization: 'pending' });
  await t.orders.startOrder(anOrder(orderId));
  await t.statusReaches(orderId, 'AWAITING_PAYMENT');
  await t.orders.reportPaymentResult(orderId, { authorizationId: 'auth-forged', approved: true });
  await t.orders.reportPaymentResult(orderId, {
    authorizationId: `auth-${orderId}`,
    approved: false,
    reason: 'insufficient funds',
  });
  const result = await t.handle(orderId).result();
  assert.equal(result.status, 'REJECTED', 'the forged approval did not count');
});

test('a repeated dispatch confirmation is answered, but only a bounded number of times', async () => {
  // The capture holds the saga open after dispatch, so every repeat meets a running saga.
  const capture = new Hold();
  const orderId = t.script('dispatch-flood', { holds: { capturePayment: capture } });
  await t.orders.startOrder(anOrder(orderId));
  await t.statusReaches(orderId, 'AWAITING_DISPATCH');
  const answers = [];
  for (let i = 0; i < 30; i++) answers.push((await t.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-SAME' })).accepted);
  assert.equal(answers[0], true);
  assert.ok(answers.includes(false), 'past the bound the saga refuses, so the history cannot grow without end');
  // A held call locks the test server's clock: release it before the next test skips time.
  capture.release();
  assert.equal((await t.handle(orderId).result()).status, 'COMPLETED');
});

test('an undo stuck for ten days keeps the saga running with a bounded history, then finishes when the fault clears', async () => {
  const orderId = t.script('stuck-ten-days', {
    faults: { reserveStock: { refuse: 'StockUnavailable' }, voidAuthorization: { fail: Infinity } },
  });
  // A low history limit makes the saga continue as new several times within the ten days.
  const first = await t.env.client.workflow.start<typeof orderFulfillment>('orderFulfillment', {
    taskQueue: t.taskQueue,
    workflowId: workflowIdFor(orderId),
    args: [parseOrder(anOrder(orderId)), { historyLimit: 600 }],
  });
  await t.statusReaches(orderId, 'COMPENSATING');
  await t.env.sleep('10 days');
  const handle = t.handle(orderId);
  const described = await handle.describe();
  assert.equal(described.status.name, 'RUNNING');
  assert.notEqual(described.runId, first.firstExecutionRunId, 'the saga continued as new');
  assert.ok((described.historyLength ?? 0) < 700, `history of the current run: ${described.historyLength}`);
  const stuck = await handle.query(sagaQuery);
  assert.equal(stuck.status, 'COMPENSATING');
  assert.ok((stuck.run ?? 1) > 1);
  assert.ok((stuck.compensations.find((c) => c.name === 'voidAuthorization')?.rounds ?? 0) > 200);
  assert.deepEqual(
    stuck.compensations.filter((c) => c.state === 'done').map((c) => c.name),
    ['releaseStock', 'cancelShipment'],
    'the undo done before the run continued stays done',
  );
  t.clearFault(orderId, 'voidAuthorization');
  const result = await handle.result();
  assert.equal(result.status, 'REJECTED');
  assert.deepEqual(
    result.progress.compensations.map((c) => [c.name, c.state]),
    [
      ['cancelOrder', 'done'],
      ['voidAuthorization', 'done'],
      ['releaseStock', 'done'],
      ['cancelShipment', 'done'],
    ],
  );
  for (const undo of ['releaseStock', 'cancelShipment'])
    assert.equal(t.calls(orderId).filter((c) => c === undo).length, 1, `${undo} never ran twice across runs`);
});
