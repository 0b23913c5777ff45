// Invariant: a customer cancellation is accepted at every wait point until dispatch and undoes
// everything taken so far (voided authorization, released stock, cancelled shipment), as does an
// operator cancelling the workflow; after capture it refunds the charged amount; after dispatch
// it is refused and changes nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { restock } from '../../../activities/inventory/ledger';
import { workflowIdFor } from '../../../domain/ids';
import {
  anOrder,
  authorizationOf,
  eventsOf,
  reaches,
  startHarness,
  stockOf,
  undoneInOrder,
  uniqueId,
  type SagaHarness,
} from './harness';

let h: SagaHarness;
before(async () => {
  h = await startHarness();
});
after(() => h.stop());

async function orderWithStock(label: string, quantity = 2) {
  const orderId = uniqueId(label);
  const sku = `sku-${orderId}`;
  await h.db.transaction((tx) => restock(tx, { [sku]: 10 }));
  return { orderId, sku, lines: [{ sku, quantity, unitPrice: { amount: 1000, currency: 'EUR' } }] };
}

test('cancel while waiting for the payment webhook voids the pending authorization', async () => {
  const { orderId, lines } = await orderWithStock('cancel-payment');
  await h.orders.startOrder(anOrder({ orderId, lines, payment: { methodToken: 'tok_async' } }));
  await reaches(h, orderId, 'AWAITING_PAYMENT');
  const answer = await h.orders.cancelOrder(orderId, 'changed my mind');
  assert.equal(answer.accepted, true);
  const result = await h.orders.orderOutcome(orderId);
  assert.equal(result.status, 'CANCELLED');
  assert.equal(result.reason, 'changed my mind');
  assert.equal((await authorizationOf(h.db, orderId))?.status, 'voided');
  assert.deepEqual(await eventsOf(h.db, orderId), [
    'OrderSubmitted',
    'FraudScreened',
    'PaymentAuthorizationPending',
    'PaymentVoided',
    'OrderCancelled',
  ]);
  // A late webhook changes nothing: the saga has ended.
  await h.orders.reportPaymentResult(orderId, { authorizationId: `auth-${orderId}`, approved: true }).catch(() => undefined);
  assert.equal((await authorizationOf(h.db, orderId))?.status, 'voided');
});

test('an approved webhook lets the saga go on', async () => {
  const { orderId, lines } = await orderWithStock('webhook');
  await h.orders.startOrder(anOrder({ orderId, lines, payment: { methodToken: 'tok_async' } }));
  const waiting = await reaches(h, orderId, 'AWAITING_PAYMENT');
  const auth = waiting.steps.find((s) => s.name === 'authorizePayment')?.result as { authorizationId: string };
  await h.orders.reportPaymentResult(orderId, { authorizationId: auth.authorizationId, approved: true });
  await reaches(h, orderId, 'AWAITING_DISPATCH');
  assert.equal((await authorizationOf(h.db, orderId))?.status, 'authorized');
  assert.equal((await h.orders.cancelOrder(orderId, 'no longer needed')).accepted, true);
  assert.equal((await h.orders.orderOutcome(orderId)).status, 'CANCELLED');
});

test('cancel while waiting for dispatch undoes shipment, stock and payment', async () => {
  const { orderId, sku, lines } = await orderWithStock('cancel-dispatch');
  await h.orders.startOrder(anOrder({ orderId, lines }));
  await reaches(h, orderId, 'AWAITING_DISPATCH');
  assert.deepEqual(await stockOf(h.db, sku), { onHand: 10, reserved: 2 });
  assert.equal((await h.orders.cancelOrder(orderId, 'found it cheaper')).accepted, true);
  const result = await h.orders.orderOutcome(orderId);
  assert.equal(result.status, 'CANCELLED');
  assert.deepEqual(undoneInOrder(result.progress), ['cancelShipment', 'releaseStock', 'voidAuthorization', 'cancelOrder']);
  assert.deepEqual(await stockOf(h.db, sku), { onHand: 10, reserved: 0 });
  assert.equal((await authorizationOf(h.db, orderId))?.status, 'voided');
  const shipment = await h.db.get<{ status: string }>('SELECT status FROM shipments WHERE order_id = ?', [orderId]);
  assert.equal(shipment?.status, 'cancelled');
  assert.equal(
    (await h.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-late' })).accepted,
    false,
    'a cancelled order cannot be dispatched',
  );
});

test('cancel after capture refunds the charged amount', async () => {
  const { orderId, sku, lines } = await orderWithStock('cancel-captured', 3);
  await h.orders.startOrder(anOrder({ orderId, lines, payment: { methodToken: 'tok_visa', capture: 'at-confirmation' } }));
  const waiting = await reaches(h, orderId, 'AWAITING_DISPATCH');
  assert.ok(waiting.steps.some((s) => s.name === 'capturePayment' && s.state === 'done'));
  assert.equal((await h.orders.cancelOrder(orderId, 'changed my mind')).accepted, true);
  const result = await h.orders.orderOutcome(orderId);
  assert.equal(result.status, 'CANCELLED');
  assert.equal(undoneInOrder(result.progress)[0], 'refundPayment', 'the refund is undone first');
  const refund = await h.db.get<{ amount: number; capture_id: string }>(
    'SELECT amount, capture_id FROM payment_refunds WHERE order_id = ?',
    [orderId],
  );
  assert.equal(Number(refund?.amount), 3000);
  assert.equal(refund?.capture_id, `cap-${orderId}`);
  assert.equal((await authorizationOf(h.db, orderId))?.status, 'refunded');
  assert.deepEqual(await stockOf(h.db, sku), { onHand: 10, reserved: 0 });
  assert.deepEqual(await eventsOf(h.db, orderId), [
    'OrderSubmitted',
    'FraudScreened',
    'PaymentAuthorized',
    'StockReserved',
    'ShipmentAllocated',
    'OrderConfirmed',
    'PaymentCaptured',
    'PaymentRefunded',
    'ShipmentCancelled',
    'StockReleased',
    'OrderCancelled',
  ]);
});

test('cancel after dispatch is refused and changes nothing', async () => {
  const { orderId, lines } = await orderWithStock('cancel-late');
  await h.orders.startOrder(anOrder({ orderId, lines }));
  await reaches(h, orderId, 'AWAITING_DISPATCH');
  assert.equal((await h.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-9' })).accepted, true);
  const refused = await h.orders.cancelOrder(orderId, 'too late');
  assert.equal(refused.accepted, false);
  const result = await h.orders.orderOutcome(orderId);
  assert.equal(result.status, 'COMPLETED');
  assert.equal(result.progress.cancellation, undefined);
});

test('an operator cancelling the workflow undoes the saga too', async () => {
  const { orderId, sku, lines } = await orderWithStock('operator');
  await h.orders.startOrder(anOrder({ orderId, lines }));
  await reaches(h, orderId, 'AWAITING_DISPATCH');
  const handle = h.client.workflow.getHandle(workflowIdFor(orderId));
  // While it waits, the UI's current details say what for.
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  assert.match(metadata.currentDetails ?? '', /Waiting for the warehouse to dispatch/);
  await handle.cancel();
  const result = await h.orders.orderOutcome(orderId);
  assert.equal(result.status, 'CANCELLED');
  assert.match(result.reason ?? '', /operator/);
  assert.deepEqual(await stockOf(h.db, sku), { onHand: 10, reserved: 0 });
  assert.equal((await authorizationOf(h.db, orderId))?.status, 'voided');
});
