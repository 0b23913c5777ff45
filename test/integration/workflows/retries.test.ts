// Invariant: technical failures are retried under the step's policy without applying an effect
// twice, even when the effect committed and only the reply was lost; an exhausted policy ends the
// saga FAILED with the cause after undoing everything (including the step whose reply was lost);
// an undo that keeps failing is retried until it succeeds and is visible while it is stuck.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { restock } from '../../../activities/inventory/ledger';
import { workflowIdFor } from '../../../domain/ids';
import { waitUntil } from '../../wait';
import {
  anOrder,
  authorizationOf,
  countRows,
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

async function stockedOrder(label: string) {
  const orderId = uniqueId(label);
  const sku = `sku-${orderId}`;
  await h.db.transaction((tx) => restock(tx, { [sku]: 10 }));
  return { orderId, sku, lines: [{ sku, quantity: 2, unitPrice: { amount: 500, currency: 'EUR' } }] };
}

test('a reply lost twice is retried and the effect applies once', async () => {
  const { orderId, sku, lines } = await stockedOrder('transient');
  const failures = new Map<string, number>();
  h.plan(orderId, (operation) => {
    if (operation !== 'reserveStock' && operation !== 'authorizePayment') return;
    const n = (failures.get(operation) ?? 0) + 1;
    failures.set(operation, n);
    if (n <= 2) throw new Error(`connection reset after commit (${operation}, attempt ${n})`);
  });
  await h.orders.startOrder(anOrder({ orderId, lines }));
  await reaches(h, orderId, 'AWAITING_DISPATCH');
  assert.equal(failures.get('reserveStock'), 3, 'two failures, then the third attempt answered');
  assert.equal(failures.get('authorizePayment'), 3);
  await h.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-T' });
  assert.equal((await h.orders.orderOutcome(orderId)).status, 'COMPLETED');
  assert.deepEqual(await stockOf(h.db, sku), { onHand: 10, reserved: 2 }, 'reserved once, not three times');
  assert.equal(await countRows(h.db, 'stock_reservations', orderId), 1);
  assert.equal(await countRows(h.db, 'payment_authorizations', orderId), 1);
  const events = await eventsOf(h.db, orderId);
  assert.equal(events.filter((e) => e === 'StockReserved').length, 1);
  assert.equal(events.filter((e) => e === 'PaymentAuthorized').length, 1);
});

test('an exhausted retry policy fails the saga with its cause and undoes the lost-reply step too', async () => {
  const { orderId, sku, lines } = await stockedOrder('exhausted');
  let attempts = 0;
  h.plan(orderId, (operation) => {
    if (operation !== 'allocateShipment') return;
    attempts++;
    throw new Error('carrier API unavailable');
  });
  await h.orders.startOrder(anOrder({ orderId, lines }));
  const result = await h.orders.orderOutcome(orderId);
  assert.equal(result.status, 'FAILED');
  assert.equal(result.reason, 'allocateShipment failed: carrier API unavailable');
  assert.equal(attempts, 10, 'the shipping policy allows ten attempts');
  assert.deepEqual(undoneInOrder(result.progress), ['cancelShipment', 'releaseStock', 'voidAuthorization', 'cancelOrder']);
  // The allocation committed although no reply ever came back: its undo still cancelled it.
  const shipment = await h.db.get<{ status: string }>('SELECT status FROM shipments WHERE order_id = ?', [orderId]);
  assert.equal(shipment?.status, 'cancelled');
  assert.deepEqual(await stockOf(h.db, sku), { onHand: 10, reserved: 0 });
  assert.equal((await authorizationOf(h.db, orderId))?.status, 'voided');
  const order = await h.db.get<{ status: string; reason: string }>('SELECT status, reason FROM orders WHERE order_id = ?', [
    orderId,
  ]);
  assert.deepEqual({ ...order }, { status: 'FAILED', reason: 'allocateShipment failed: carrier API unavailable' });
});

test('a failing undo is retried until it succeeds and is visible while stuck', async () => {
  const orderId = uniqueId('stuck');
  const sku = `scarce-${orderId}`;
  await h.db.transaction((tx) => restock(tx, { [sku]: 0 }));
  let healed = false;
  h.plan(orderId, (operation) => {
    if (operation === 'voidAuthorization' && !healed) throw new Error('payment provider timeout');
  });
  await h.orders.startOrder(anOrder({ orderId, lines: [{ sku, quantity: 1, unitPrice: { amount: 100, currency: 'EUR' } }] }));
  const stuck = await waitUntil(
    async () => {
      const l = await h.orders.getOrder(orderId);
      const c = l.compensations.find((x) => x.name === 'voidAuthorization');
      return c?.state === 'retrying' && c.rounds >= 2 ? l : undefined;
    },
    { what: 'the void to be seen stuck' },
  );
  assert.equal(stuck.status, 'COMPENSATING');
  assert.equal(stuck.currentStep, 'voidAuthorization');
  assert.equal(stuck.compensations.find((x) => x.name === 'voidAuthorization')?.lastError, 'payment provider timeout');
  assert.equal(
    stuck.compensations.find((x) => x.name === 'cancelOrder')?.state,
    'registered',
    'older undos wait for the stuck one',
  );
  const described = await h.client.workflow.getHandle(workflowIdFor(orderId)).describe();
  assert.equal(described.typedSearchAttributes.getAll().find((p) => p.key.name === 'SagaStep')?.value, 'voidAuthorization');

  healed = true;
  const result = await h.orders.orderOutcome(orderId);
  assert.equal(result.status, 'REJECTED');
  assert.deepEqual(undoneInOrder(result.progress), ['cancelShipment', 'releaseStock', 'voidAuthorization', 'cancelOrder']);
  assert.equal(
    (await eventsOf(h.db, orderId)).filter((e) => e === 'PaymentVoided').length,
    1,
    'voided once across all the rounds',
  );
});
