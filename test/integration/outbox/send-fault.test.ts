// Invariant: a send that reached the broker but reported a retriable error loses no event: every
// ce_id appended reaches the topic. The fault (a REQUEST_TIMED_OUT answer to a produce request the
// broker did write, as a timeout or a connection closed after the write would look) is injected at
// kafkajs's broker `produce`, since loopback cannot produce it, while a second batch is claimed and
// ready to send. kafkajs hands the failed request's sequence numbers back; a second send on the
// same producer would reuse them and be acknowledged by the broker as a duplicate, never written.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { migrate, outboxMigrations } from '../../../platform/migrations';
import { createRelay } from '../../../outbox/relay';
import { openOutboxStore, type OutboxStore } from '../../../outbox/store';
import { bothStores } from '../../databases';
import { kafkaBrokers, testTopic } from '../../env';
import { waitUntil } from '../../wait';
import { afterProduce, requestTimedOut } from './broker-seam';
import { appendOrders, collectDeliveries, quietLog } from './deliveries';

const BATCH = 10;
const ORDERS = 4 * BATCH;

for (const { kind, create } of bothStores) {
  describe(`a send that reached the broker but reported an error, on ${kind}`, () => {
    test('every event reaches the topic, also those of the batch queued behind the failed send', async () => {
      const testDb = await create();
      const db = testDb.open();
      await migrate(db, outboxMigrations);
      const outbox = openOutboxStore(db);
      let claimed = 0;
      const store: OutboxStore = {
        ...outbox,
        claim: async (request) => {
          const claim = await outbox.claim(request);
          if (claim.rows.length > 0) claimed += 1;
          return claim;
        },
      };
      const run = randomUUID().slice(0, 8);
      const route = (topic: string) => testTopic(`${topic}.send-fault-${run}`);
      const topic = route('trapeze.orders');
      const kafka = new Kafka({ clientId: 'send-fault-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
      // One partition and batches of equal size: the queued batch gets exactly the sequence numbers
      // the failed request had, which is when the broker takes it for a duplicate.
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
      await admin.disconnect();

      await outbox.pause('trapeze.orders', 'test: fill the outbox first');
      const expected = new Map<string, string[]>();
      await appendOrders(
        db,
        Array.from({ length: ORDERS }, () => `order-${randomUUID()}`),
        ['OrderSubmitted'],
        expected,
      );
      let injected = false;
      const restore = afterProduce(topic, async () => {
        if (injected) return;
        injected = true;
        await waitUntil(() => claimed >= 2, { timeoutMs: 10_000, what: 'a second batch to be claimed' });
        // The second batch is claimed; give it time to reach kafkajs's per-broker lock, where it
        // waits unobservably (a grace, not the condition: the condition is the claim above).
        await new Promise((resolve) => setTimeout(resolve, 200));
        throw requestTimedOut();
      });
      const relay = createRelay({ store, kafka, log: quietLog, route, batchSize: BATCH, partitions: 1, pipeline: 2 });
      const loop = relay.start();
      const deliveries = await collectDeliveries(kafkaBrokers(), [topic]);
      try {
        await waitUntil(() => relay.status().running, { what: 'the relay to start' });
        await outbox.resume('trapeze.orders');
        relay.wake();
        await waitUntil(async () => (await outbox.backlog()) === 0, { what: 'every row to be marked sent' });
        assert.ok(injected, 'the fault was injected');
        const appended = [...expected.values()].flat();
        const arrived = () => new Set([...deliveries.byKey.values()].flat());
        await waitUntil(() => appended.every((id) => arrived().has(id)), { timeoutMs: 15_000, what: 'every event' }).catch(
          () => undefined,
        );
        const lost = appended.filter((id) => !arrived().has(id));
        assert.deepEqual(lost, [], `${lost.length} of ${appended.length} events marked sent never reached the topic`);
      } finally {
        restore();
        await relay.stop();
        await loop;
        await deliveries.stop();
        await db.close();
        await testDb.drop();
      }
    });
  });
}
