// Invariant: order input is checked field by field before any saga starts; defaults are filled
// in, amounts are integers in minor units, one order has one currency, and no line amount nor
// the total exceeds MAX_AMOUNT, the largest amount every participant and event accepts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_AMOUNT } from '../../../domain/money';
import { InvalidOrderError, orderTotal, parseOrder } from '../../../domain/order';

const valid = {
  orderId: 'o-1',
  customer: { id: 'c-1', name: 'Ada', email: 'ada@example.com' },
  lines: [
    { sku: 'beans', quantity: 2, unitPrice: { amount: 1899, currency: 'EUR' } },
    { sku: 'mug', quantity: 1, unitPrice: { amount: 1250, currency: 'EUR' } },
  ],
  shippingAddress: { name: 'Ada', line1: 'Main St 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
  payment: { methodToken: 'tok_visa' },
};

test('a valid order parses, with capture at dispatch by default, and totals in minor units', () => {
  const order = parseOrder(valid);
  assert.equal(order.payment.capture, 'at-dispatch');
  assert.deepEqual(orderTotal(order), { amount: 5048, currency: 'EUR' });
});

test('every bad field is named', () => {
  const bad = { ...valid, lines: [{ sku: 'x', quantity: 1.5, unitPrice: { amount: -1, currency: 'eur' } }], payment: {} };
  assert.throws(
    () => parseOrder(bad),
    (err: unknown) => {
      assert.ok(err instanceof InvalidOrderError);
      assert.deepEqual(err.fields.map((f) => f.field).sort(), [
        'lines.0.quantity',
        'lines.0.unitPrice.amount',
        'lines.0.unitPrice.currency',
        'payment.methodToken',
      ]);
      assert.match(err.message, /lines\.0\.quantity/);
      return true;
    },
  );
});

test('no lines is an error on lines', () => {
  assert.throws(
    () => parseOrder({ ...valid, lines: [] }),
    (err: unknown) => err instanceof InvalidOrderError && err.fields[0]?.field === 'lines',
  );
});

const fieldsOf = (input: unknown): string[] => {
  try {
    parseOrder(input);
    return [];
  } catch (err) {
    assert.ok(err instanceof InvalidOrderError);
    return err.fields.map((f) => f.field).sort();
  }
};

test('an order whose line amount or total exceeds the largest amount is refused at the edge, naming the field', () => {
  const huge = { amount: Number.MAX_SAFE_INTEGER, currency: 'EUR' };
  assert.deepEqual(fieldsOf({ ...valid, lines: [{ sku: 'gold', quantity: 1000, unitPrice: huge }] }), ['lines', 'lines.0']);
  const half = { amount: Math.floor(MAX_AMOUNT / 2) + 1, currency: 'EUR' };
  assert.deepEqual(
    fieldsOf({
      ...valid,
      lines: [
        { sku: 'a', quantity: 1, unitPrice: half },
        { sku: 'b', quantity: 1, unitPrice: half },
      ],
    }),
    ['lines'],
    'each line fits, their sum does not',
  );
  assert.deepEqual(
    fieldsOf({ ...valid, lines: [{ sku: 'gold', quantity: 1, unitPrice: huge }] }),
    [],
    'exactly the maximum is fine',
  );
});
