// Invariant: the stack's Kafka broker is real and single-node safe: a keyed message reaches a
// consumer group member with its key, and the group's committed offset moves past it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import { kafkaBrokers, testTopic } from '../../env';
import { waitUntil } from '../../wait';

const kafka = new Kafka({ clientId: 'smoke', brokers: kafkaBrokers(), logLevel: logLevel.WARN });
let consumer: Consumer;

after(() => consumer?.disconnect());

test('a keyed message goes through a consumer group and its offset is committed', async () => {
  const topic = testTopic(`smoke-${randomUUID()}`);
  const groupId = `smoke-group-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: [{ key: 'order-1', value: 'OrderSubmitted' }] });
  await producer.disconnect();

  const received: KafkaMessage[] = [];
  consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: true,
    autoCommitInterval: 100,
    eachMessage: async ({ message }) => void received.push(message),
  });

  await waitUntil(() => received.length === 1, { what: 'the message to arrive' });
  assert.equal(received[0]?.key?.toString(), 'order-1');
  assert.equal(received[0]?.value?.toString(), 'OrderSubmitted');

  const committed = await waitUntil(
    async () => {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return offsets?.partitions[0]?.offset === '1' ? offsets.partitions[0] : undefined;
    },
    { what: 'the group offset to be committed' },
  );
  assert.equal(committed.offset, '1');
  await admin.disconnect();
});
