// Invariant: a business refusal (declined card, stock shortage, undeliverable address) ends the
// saga REJECTED with the reason, after running the undos registered so far in reverse order:
// the payment is voided, reserved stock is released, and nothing stays held.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { restock } from '../../../activities/inventory/ledger';
import {
  anOrder,
  authorizationOf,
  DEFAULT_STOCK,
  eventsOf,
  startHarness,
  stockOf,
  undoneInOrder,
  uniqueId,
  type SagaHarness,
} from './harness';

let h: SagaHarness;
before(async () => {
  h = await startHarness({ stock: DEFAULT_STOCK });
});
after(() => h.stop());

test('a declined card rejects the order and undoes in reverse', async () => {
  const orderId = uniqueId('decline');
  await h.orders.startOrder(anOrder({ orderId, payment: { methodToken: 'tok_decline' } }));
  const result = await h.orders.orderOutcome(orderId);
  assert.equal(result.status, 'REJECTED');
  assert.match(result.reason ?? '', /card declined/);
  // Registered cancelOrder, then voidAuthorization; compensating adds the undos of the steps that
  // never ran (no-ops): all undone newest first.
  assert.deepEqual(undoneInOrder(result.progress), ['cancelShipment', 'releaseStock', 'voidAuthorization', 'cancelOrder']);
  assert.deepEqual(
    result.progress.compensations.map((c) => c.name),
    ['cancelOrder', 'voidAuthorization', 'releaseStock', 'cancelShipment'],
  );
  assert.equal((await authorizationOf(h.db, orderId))?.status, 'declined');
  // Nothing was authorized, so the void found nothing to undo and published nothing.
  assert.deepEqual(await eventsOf(h.db, orderId), ['OrderSubmitted', 'FraudScreened', 'PaymentDeclined', 'OrderCancelled']);
  const order = await h.db.get<{ status: string; reason: string }>('SELECT status, reason FROM orders WHERE order_id = ?', [
    orderId,
  ]);
  assert.equal(order?.status, 'REJECTED');
});

test('a stock shortage voids the payment and releases every reserved line', async () => {
  const orderId = uniqueId('short');
  const plenty = `plenty-${orderId}`;
  const scarce = `scarce-${orderId}`;
  await h.db.transaction((tx) => restock(tx, { [plenty]: 10, [scarce]: 1 }));
  await h.orders.startOrder(
    anOrder({
      orderId,
      lines: [
        { sku: plenty, quantity: 4, unitPrice: { amount: 100, currency: 'EUR' } },
        { sku: scarce, quantity: 2, unitPrice: { amount: 100, currency: 'EUR' } },
      ],
    }),
  );
  const result = await h.orders.orderOutcome(orderId);
  assert.equal(result.status, 'REJECTED');
  assert.match(result.reason ?? '', new RegExp(`${scarce} \\(2 requested, 1 available\\)`));
  assert.deepEqual(undoneInOrder(result.progress), ['cancelShipment', 'releaseStock', 'voidAuthorization', 'cancelOrder']);
  assert.deepEqual(await stockOf(h.db, plenty), { onHand: 10, reserved: 0 });
  assert.deepEqual(await stockOf(h.db, scarce), { onHand: 1, reserved: 0 });
  assert.equal((await authorizationOf(h.db, orderId))?.status, 'voided');
  assert.deepEqual(await eventsOf(h.db, orderId), [
    'OrderSubmitted',
    'FraudScreened',
    'PaymentAuthorized',
    'StockUnavailable',
    'PaymentVoided',
    'OrderCancelled',
  ]);
});

test('an undeliverable address releases stock and voids the payment', async () => {
  const orderId = uniqueId('nowhere');
  const sku = `beans-${orderId}`;
  await h.db.transaction((tx) => restock(tx, { [sku]: 5 }));
  await h.orders.startOrder(
    anOrder({
      orderId,
      lines: [{ sku, quantity: 2, unitPrice: { amount: 100, currency: 'EUR' } }],
      shippingAddress: { name: 'Base', line1: 'McMurdo Station', city: 'Ross Island', postalCode: '0000', country: 'AQ' },
    }),
  );
  const result = await h.orders.orderOutcome(orderId);
  assert.equal(result.status, 'REJECTED');
  assert.match(result.reason ?? '', /no carrier delivers to AQ/);
  assert.deepEqual(undoneInOrder(result.progress), ['cancelShipment', 'releaseStock', 'voidAuthorization', 'cancelOrder']);
  assert.deepEqual(await stockOf(h.db, sku), { onHand: 5, reserved: 0 });
  assert.equal((await authorizationOf(h.db, orderId))?.status, 'voided');
  assert.deepEqual(await eventsOf(h.db, orderId), [
    'OrderSubmitted',
    'FraudScreened',
    'PaymentAuthorized',
    'StockReserved',
    'ShipmentUndeliverable',
    'StockReleased',
    'PaymentVoided',
    'OrderCancelled',
  ]);
});
