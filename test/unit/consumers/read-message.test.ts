// Invariant: every way a Kafka message can fail to be an event maps to a named poison reason,
// and a valid binary-mode CloudEvent decodes to exactly the envelope that was sent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envelope } from '../../../events/envelope';
import { toKafkaMessage } from '../../../events/kafka-binding';
import { UnreadableEvent } from '../../../events/unreadable';
import { decodeEnvelope } from '../../../consumers/read-message';

const env = envelope({
  context: 'orders',
  type: 'OrderCompleted',
  schemaVersion: 1,
  orderId: 'o-1',
  causationId: 'order-o-1/complete',
  correlationId: 'order-o-1',
  data: { orderId: 'o-1' },
});
const good = toKafkaMessage('o-1', env);
const headers = good.headers as Record<string, string>;

const reason = (message: Parameters<typeof decodeEnvelope>[0]) => {
  try {
    decodeEnvelope(message);
    return 'decoded';
  } catch (err) {
    assert.ok(err instanceof UnreadableEvent, String(err));
    return err.reason;
  }
};

test('a binary-mode CloudEvent decodes to its envelope', () => {
  assert.deepEqual(decodeEnvelope({ value: Buffer.from(String(good.value)), headers }), env);
});

test('each kind of poison gets its reason', () => {
  assert.equal(reason({ value: Buffer.from('hello'), headers: {} }), 'undecodable');
  assert.equal(reason({ value: Buffer.from('{'), headers }), 'undecodable');
  assert.equal(reason({ value: Buffer.from('{}'), headers: { ...headers, ce_specversion: '0.3' } }), 'invalid-envelope');
  assert.equal(reason({ value: Buffer.from('{}'), headers: { ...headers, ce_schemaversion: 'two' } }), 'invalid-envelope');
  const { ce_id: _id, ...noId } = headers;
  assert.equal(reason({ value: Buffer.from('{}'), headers: noId }), 'invalid-envelope');
});
