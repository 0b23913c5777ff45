// Invariant: money is written for people one way only, `EUR 12.50` (domain/money.ts formatMoney):
// in the customer's notification and in the order view's timeline alike.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { orderConfirmedNotification } from '../../../consumers/notifications/notify';
import { summarize } from '../../../consumers/order-view/projection';

test('the order-confirmed notification writes its total as EUR 12.50', () => {
  const n = orderConfirmedNotification('evt-1', {
    orderId: 'o-1',
    customerId: 'c-1',
    customer: { name: 'Ada', email: 'ada@example.com' },
    total: { amount: 1250, currency: 'EUR' },
  });
  assert.match(n.body, /\(EUR 12\.50\)/);
  assert.doesNotMatch(n.body, /12\.50 EUR/);
});

test('the order view timeline writes amounts as EUR 12.50', () => {
  const at = '2026-11-21T10:00:00.000Z';
  const submitted = summarize({
    type: 'OrderSubmitted',
    orderId: 'o-1',
    time: at,
    data: { total: { amount: 1250, currency: 'EUR' } },
  });
  const captured = summarize({
    type: 'PaymentCaptured',
    orderId: 'o-1',
    time: at,
    data: { amount: { amount: 99, currency: 'USD' } },
  });
  assert.equal(submitted, 'submitted, EUR 12.50');
  assert.equal(captured, 'payment captured, USD 0.99');
});
