// Invariant: the shared logger never writes a customer's name, email or address, a whole order
// input, a payment token or a credential, wherever a log call puts them (top level or one down).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { redactedPaths } from '../../../platform/log';

function capture(obj: object): string {
  const lines: string[] = [];
  const log = pino({ redact: { paths: redactedPaths, censor: '[redacted]' } }, { write: (l: string) => void lines.push(l) });
  log.info(obj, 'message');
  return lines.join('');
}

test('order input, customer, address, email and secrets are redacted; ids stay', () => {
  const order = {
    orderId: 'o-77',
    customer: { id: 'cust-9', name: 'Grace Hopper', email: 'grace@example.com' },
    shippingAddress: { name: 'Grace Hopper', line1: '1 Main St', city: 'Arlington', postalCode: '22201', country: 'US' },
    payment: { methodToken: 'tok_secret_123' },
  };
  const out = capture({
    orderId: 'o-77',
    order,
    input: [order],
    saga: { customer: order.customer, shippingAddress: order.shippingAddress, email: 'grace@example.com' },
    payment: order.payment,
    req: { headers: { authorization: 'Bearer abc.def' } },
    PAYLOAD_KEYS: 'k1:c2VjcmV0',
  });
  for (const leak of [
    'Grace Hopper',
    'grace@example.com',
    '1 Main St',
    '22201',
    'tok_secret_123',
    'Bearer abc.def',
    'c2VjcmV0',
  ]) {
    assert.ok(!out.includes(leak), `${leak} leaked: ${out}`);
  }
  assert.match(out, /"orderId":"o-77"/);
});
