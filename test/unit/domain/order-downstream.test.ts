// Invariant: nothing the edge accepts fails validation later. Any order parseOrder accepts runs
// through every participant operation the saga calls (submit, screen, authorize, reserve,
// allocate, confirm, capture, dispatch, complete, refund) and each event it appends validates
// against the catalog; amounts near and beyond MAX_AMOUNT are generated on purpose.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { createParticipants, participantMigrations, type Participants } from '../../../activities';
import { restock } from '../../../activities/inventory/ledger';
import { idempotencyKey } from '../../../domain/ids';
import { MAX_AMOUNT } from '../../../domain/money';
import { InvalidOrderError, orderTotal, parseOrder, type Order } from '../../../domain/order';
import { openDatabase, type Database } from '../../../platform/database';
import { migrate } from '../../../platform/migrations';

let db: Database;
let p: Participants;
before(async () => {
  db = openDatabase('sqlite::memory:');
  await migrate(db, participantMigrations);
  p = createParticipants(db);
});
after(() => db.close());

const perUnitMax = Math.floor(MAX_AMOUNT / 1000);
const amount = fc.oneof(
  fc.integer({ min: 0, max: 100_000 }),
  fc.integer({ min: 0, max: MAX_AMOUNT }),
  fc.integer({ min: perUnitMax - 1000, max: perUnitMax + 1000 }),
  fc.constantFrom(MAX_AMOUNT, Math.floor(MAX_AMOUNT / 2) + 1, perUnitMax, perUnitMax + 1),
);
const line = fc.record({
  sku: fc.string({ minLength: 0, maxLength: 70 }),
  quantity: fc.oneof(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 1001 })),
  unitPrice: fc.record({ amount, currency: fc.constant('EUR') }),
});
const request = fc.record({ lines: fc.array(line, { minLength: 1, maxLength: 5 }) }).map(({ lines }) => ({
  customer: { id: 'c-1', name: 'Ada', email: 'ada@example.com' },
  lines,
  shippingAddress: { name: 'Ada', line1: 'Main St 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
  payment: { methodToken: 'tok_visa' },
}));

/** The requests the saga sends for one order, as workflows/participants.ts builds them. */
async function runSaga(order: Order): Promise<void> {
  const workflowId = `order-${order.orderId}`;
  const ref = (step: string) => ({ orderId: order.orderId, workflowId, key: idempotencyKey(workflowId, step) });
  const total = orderTotal(order);
  // A Map, not an object: a sku may be any string, `toString` and `__proto__` included.
  const demand = new Map<string, number>();
  for (const l of order.lines) demand.set(l.sku, (demand.get(l.sku) ?? 0) + l.quantity);
  await db.transaction((tx) => restock(tx, Object.fromEntries(demand)));

  await p.orders.submitOrder({ ...ref('submitOrder'), customerId: order.customer.id, lines: order.lines, total });
  await p.fraud.screenOrder({
    ...ref('screenOrder'),
    customerId: order.customer.id,
    total,
    methodToken: order.payment.methodToken,
    shippingCountry: order.shippingAddress.country,
  });
  await p.payments.authorizePayment({ ...ref('authorizePayment'), amount: total, methodToken: order.payment.methodToken });
  await p.inventory.reserveStock({
    ...ref('reserveStock'),
    lines: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
  });
  const a = order.shippingAddress;
  await p.shipping.allocateShipment({
    ...ref('allocateShipment'),
    recipient: { name: a.name, address: { line1: a.line1, city: a.city, postalCode: a.postalCode, country: a.country } },
  });
  await p.orders.confirmOrder({
    ...ref('confirmOrder'),
    customerId: order.customer.id,
    customer: { name: order.customer.name, email: order.customer.email },
    total,
  });
  await p.payments.capturePayment({ ...ref('capturePayment'), authorizeKey: ref('authorizePayment').key });
  await p.shipping.recordDispatch({ ...ref('awaitDispatch'), allocateKey: ref('allocateShipment').key, trackingNumber: 'T1' });
  await p.orders.completeOrder({ ...ref('completeOrder'), total, trackingNumber: 'T1' });
  await p.payments.refundPayment({ ...ref('refundPayment'), captureKey: ref('capturePayment').key });
}

test('every order the edge accepts passes every participant and event schema downstream', async () => {
  let n = 0;
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(request, async (input) => {
      let order: Order;
      try {
        order = parseOrder({ ...input, orderId: `prop-${++n}` });
      } catch (err) {
        if (err instanceof InvalidOrderError) return;
        throw err;
      }
      accepted++;
      await runSaga(order);
    }),
    { numRuns: 200 },
  );
  assert.ok(accepted >= 20, `enough accepted orders to mean something (${accepted} of 200)`);
});
