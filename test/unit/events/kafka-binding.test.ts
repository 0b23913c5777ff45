// Invariant: an envelope sent through the CloudEvents Kafka binary binding comes back identical:
// attributes in ce_* headers, content-type header, data alone in the value.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envelope } from '../../../events/envelope';
import { fromKafkaMessage, toKafkaMessage } from '../../../events/kafka-binding';

test('binary binding round-trips an envelope and keeps data alone in the value', () => {
  const env = envelope({
    context: 'orders',
    type: 'OrderSubmitted',
    schemaVersion: 2,
    orderId: 'o-1',
    causationId: 'order-o-1/submit',
    correlationId: 'order-o-1',
    data: { orderId: 'o-1', lines: [{ sku: 'A', qty: 2 }] },
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  });
  const message = toKafkaMessage('o-1', env);
  assert.equal(message.key, 'o-1');
  assert.deepEqual(JSON.parse(String(message.value)), env.data);
  assert.equal(message.headers?.['ce_id'], env.id);
  assert.equal(message.headers?.['ce_schemaversion'], '2');
  assert.equal(message.headers?.['content-type'], 'application/json');
  assert.equal(message.headers?.['ce_data'], undefined);
  const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, Buffer.from(String(v))]));
  assert.deepEqual(fromKafkaMessage({ value: Buffer.from(String(message.value)), headers }), env);
});
