// Invariant: a saga that meets no refusal runs every step exactly once, in order, and leaves
// consistent ledgers (stock reserved, payment captured for the order total, shipment dispatched,
// order completed) with one outbox event per step in step order; starting the same order again
// returns the same saga instead of a second one.
import { Client } from '@temporalio/client';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { OrderConflictError } from '../../../api/client';
import { restock } from '../../../activities/inventory/ledger';
import { workflowIdFor } from '../../../domain/ids';
import {
  anOrder,
  authorizationOf,
  countRows,
  DEFAULT_STOCK,
  eventsOf,
  reaches,
  startHarness,
  stockOf,
  uniqueId,
  type SagaHarness,
} from './harness';

let h: SagaHarness;
before(async () => {
  h = await startHarness({ stock: DEFAULT_STOCK });
});
after(() => h.stop());

test('an order runs every step once and completes', async () => {
  const orderId = uniqueId('happy');
  const sku = `beans-${orderId}`;
  await h.db.transaction((tx) => restock(tx, { [sku]: 10 }));
  const order = anOrder({ orderId, lines: [{ sku, quantity: 3, unitPrice: { amount: 1250, currency: 'EUR' } }] });

  const first = await h.orders.startOrder(order);
  const again = await h.orders.startOrder(order);
  assert.equal(again.runId, first.runId, 'a second start of the same order attaches to the same saga');

  const waiting = await reaches(h, orderId, 'AWAITING_DISPATCH');
  assert.equal(waiting.currentStep, 'awaitDispatch');
  const answer = await h.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-1', carrier: 'UPS' });
  assert.equal(answer.accepted, true);
  const retried = await h.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-1', carrier: 'UPS' });
  assert.equal(retried.accepted, true, 'the warehouse may repeat its confirmation');

  const result = await h.orders.orderOutcome(orderId);
  assert.equal(result.status, 'COMPLETED');
  assert.deepEqual(
    result.progress.steps.map((s) => [s.name, s.state]),
    [
      'submitOrder',
      'screenOrder',
      'authorizePayment',
      'reserveStock',
      'allocateShipment',
      'confirmOrder',
      'awaitDispatch',
      'capturePayment',
      'completeOrder',
    ].map((n) => [n, 'done']),
  );
  assert.deepEqual(
    result.progress.compensations.map((c) => c.state),
    ['registered', 'registered', 'registered', 'registered'],
    'no undo ran',
  );

  assert.deepEqual(await eventsOf(h.db, orderId), [
    'OrderSubmitted',
    'FraudScreened',
    'PaymentAuthorized',
    'StockReserved',
    'ShipmentAllocated',
    'OrderConfirmed',
    'ShipmentDispatched',
    'PaymentCaptured',
    'OrderCompleted',
  ]);
  assert.deepEqual(await stockOf(h.db, sku), { onHand: 10, reserved: 3 });
  assert.deepEqual(await authorizationOf(h.db, orderId), { status: 'captured', amount: 3750 });
  const capture = await h.db.get<{ amount: number }>('SELECT amount FROM payment_captures WHERE order_id = ?', [orderId]);
  assert.equal(Number(capture?.amount), 3750);
  assert.equal(await countRows(h.db, 'payment_captures', orderId), 1);
  const shipment = await h.db.get<{ status: string; tracking_number: string }>(
    'SELECT status, tracking_number FROM shipments WHERE order_id = ?',
    [orderId],
  );
  assert.deepEqual({ ...shipment }, { status: 'dispatched', tracking_number: 'TRK-1' });
  const row = await h.db.get<{ status: string }>('SELECT status FROM orders WHERE order_id = ?', [orderId]);
  assert.equal(row?.status, 'COMPLETED');

  // Operators find the saga by its search attributes, kept current to the end.
  const described = await h.client.workflow.getHandle(workflowIdFor(orderId)).describe();
  const attrs = Object.fromEntries(described.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value]));
  assert.equal(attrs.OrderId, orderId);
  assert.equal(attrs.CustomerId, 'cust-1');
  assert.equal(attrs.SagaStatus, 'COMPLETED');
  assert.equal(attrs.SagaStep, 'none');
  assert.match((await described.staticSummary()) ?? '', /Order .* 1 line\(s\), EUR 37\.50/);
  await assert.rejects(
    () =>
      h.orders
        .cancelOrder(orderId, 'too late')
        .then((a) => (a.accepted ? Promise.resolve() : Promise.reject(new Error(a.reason)))),
    /already COMPLETED/,
  );
});

test('starting a finished order again returns that saga and starts nothing; a different order under its id is refused', async () => {
  const orderId = uniqueId('again');
  const first = await h.orders.startOrder(anOrder({ orderId, payment: { methodToken: 'tok_decline' } }));
  assert.equal((await h.orders.orderOutcome(orderId)).status, 'REJECTED');
  const again = await h.orders.startOrder(anOrder({ orderId, payment: { methodToken: 'tok_decline' } }));
  assert.equal(again.runId, first.runId);
  assert.deepEqual([first.created, again.created, again.status], [true, false, 'REJECTED']);
  await assert.rejects(h.orders.startOrder(anOrder({ orderId })), OrderConflictError);
  const client: Client = h.client;
  let runs = 0;
  for await (const _ of client.workflow.list({ query: `WorkflowId = '${workflowIdFor(orderId)}'` })) runs++;
  assert.equal(runs, 1);
});
