// Invariant: the client refuses a bad order before anything starts: a typed InvalidOrderError
// names every offending field, and no saga exists for that order afterwards.
import { WorkflowNotFoundError } from '@temporalio/client';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InvalidOrderError } from '../../../domain/order';
import { workflowIdFor } from '../../../domain/ids';
import { anOrder, startHarness, uniqueId, type SagaHarness } from '../workflows/harness';

let h: SagaHarness;
before(async () => {
  h = await startHarness();
});
after(() => h.stop());

test('bad orders get field-level errors and start no saga', async () => {
  const orderId = uniqueId('bad');
  const bad = {
    ...anOrder({ orderId }),
    customer: { id: 'c-1', name: 'X', email: 'not-an-email' },
    lines: [
      { sku: 'beans', quantity: 0, unitPrice: { amount: 100, currency: 'EUR' } },
      { sku: '', quantity: 1, unitPrice: { amount: 12.5, currency: 'USD' } },
    ],
    shippingAddress: { name: 'X', line1: '', city: 'Y', postalCode: '1', country: 'Germany' },
  };
  const err = await h.orders.startOrder(bad).then(
    () => assert.fail('a bad order must not start'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof InvalidOrderError);
  const fields = err.fields.map((f) => f.field).sort();
  assert.deepEqual(fields, [
    'customer.email',
    'lines.0.quantity',
    'lines.1.sku',
    'lines.1.unitPrice.amount',
    'shippingAddress.country',
    'shippingAddress.line1',
  ]);
  await assert.rejects(() => h.client.workflow.getHandle(workflowIdFor(orderId)).describe(), WorkflowNotFoundError);
});

test('an order without lines or payment names the missing fields', async () => {
  const err = await h.orders
    .startOrder({ orderId: 'has spaces', customer: { id: 'c', name: 'n', email: 'a@b.co' } })
    .catch((e: unknown) => e);
  assert.ok(err instanceof InvalidOrderError);
  assert.deepEqual(err.fields.map((f) => f.field).sort(), ['lines', 'orderId', 'payment', 'shippingAddress']);
});

test('an order in two currencies names the odd line', async () => {
  const orderId = uniqueId('mixed');
  const order = anOrder({
    orderId,
    lines: [
      { sku: 'beans', quantity: 1, unitPrice: { amount: 100, currency: 'EUR' } },
      { sku: 'mug', quantity: 1, unitPrice: { amount: 100, currency: 'USD' } },
    ],
  });
  const err = await h.orders.startOrder(order).catch((e: unknown) => e);
  assert.ok(err instanceof InvalidOrderError);
  assert.deepEqual(err.fields, [{ field: 'lines.1.unitPrice.currency', message: 'every line must be in EUR' }]);
  await assert.rejects(() => h.client.workflow.getHandle(workflowIdFor(orderId)).describe(), WorkflowNotFoundError);
});
