// Invariant: a row Kafka can never take (here larger than the topic's max.message.bytes) does not
// stall its batch: it is isolated and parked with its reason (a dead letter, counted in a metric),
// every other key flows on, the key's later events wait behind it where the metrics show them, and
// once an operator re-drives it (after raising the limit) the key's events arrive in order.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import type { NewEvent } from '../../../events/envelope';
import { appendEvent } from '../../../outbox/append';
import { migrate, outboxMigrations } from '../../../platform/migrations';
import { createRelay } from '../../../outbox/relay';
import { createRelayMetrics } from '../../../outbox/relay-metrics';
import { openOutboxStore } from '../../../outbox/store';
import { bothStores } from '../../databases';
import { kafkaBrokers, testTopic } from '../../env';
import { waitUntil } from '../../wait';
import { collectDeliveries, firstArrivals, quietLog } from './deliveries';

const event = (orderId: string, type: string, pad = 0): NewEvent => ({
  context: 'orders',
  type,
  schemaVersion: 1,
  orderId,
  causationId: `order-${orderId}/${type}`,
  correlationId: `order-${orderId}`,
  data: { orderId, pad: 'x'.repeat(pad) },
});

for (const { kind, create } of bothStores) {
  describe(`a row Kafka can never take, on ${kind}`, () => {
    test('is parked with its reason; other keys flow, its key waits visibly until it is re-driven', async () => {
      const testDb = await create();
      const db = testDb.open();
      await migrate(db, outboxMigrations);
      const store = openOutboxStore(db);
      const registry = new Registry();
      const run = randomUUID().slice(0, 8);
      const route = (topic: string) => testTopic(`${topic}.dead-letters-${run}`);
      const topic = route('trapeze.orders');
      const kafka = new Kafka({ clientId: 'dead-letter-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'max.message.bytes', value: '20000' }] }],
      });

      const stuck = `order-${randomUUID()}`;
      const others = Array.from({ length: 20 }, () => `order-${randomUUID()}`);
      const ids = new Map<string, string[]>();
      const append = async (orderId: string, type: string, pad = 0) => {
        const env = await db.transaction((tx) => appendEvent(tx, event(orderId, type, pad)));
        ids.set(orderId, [...(ids.get(orderId) ?? []), env.id]);
        return env;
      };
      // One batch: the stuck key's second event is 50 kB, over the topic's 20 kB limit.
      await store.pause('trapeze.orders', 'test: one batch');
      await append(stuck, 'OrderSubmitted');
      for (const o of others) await append(o, 'OrderSubmitted');
      const big = await append(stuck, 'OrderConfirmed', 50_000);
      await append(stuck, 'OrderCompleted');
      for (const o of others) await append(o, 'OrderConfirmed');
      await store.resume('trapeze.orders');

      const relay = createRelay({
        store,
        kafka,
        log: quietLog,
        route,
        partitions: 3,
        batchSize: 100,
        metrics: createRelayMetrics(registry, store),
      });
      const loop = relay.start();
      const deliveries = await collectDeliveries(kafkaBrokers(), [topic]);
      try {
        await waitUntil(() => others.every((o) => firstArrivals(deliveries.byKey.get(o) ?? []).length === 2), {
          what: "the other keys' events",
        });
        await waitUntil(async () => (await store.deadLetterCounts()).parked === 1, { what: 'the big row to be parked' });
        const [letter] = await store.deadLetters();
        assert.equal(letter?.id, big.id);
        assert.match(letter?.reason ?? '', /larger than the max message size/);
        assert.equal(letter?.waiting, 1);
        assert.equal(relay.status().parked, 1);
        assert.deepEqual(firstArrivals(deliveries.byKey.get(stuck) ?? []), ids.get(stuck)?.slice(0, 1));
        assert.equal(await store.backlog(), 2, 'the parked row and the one behind it');
        const metrics = await registry.metrics();
        assert.match(metrics, /trapeze_outbox_dead_letters 1/);
        assert.match(metrics, /trapeze_outbox_blocked_by_dead_letters 1/);
        assert.match(metrics, /trapeze_outbox_parked_total 1/);

        // The operator raises the limit and re-drives the row: the key's events follow in order.
        await admin.alterConfigs({
          validateOnly: false,
          resources: [{ type: 2, name: topic, configEntries: [{ name: 'max.message.bytes', value: '1000000' }] }],
        });
        assert.equal(await store.redrive(big.id), true);
        relay.wake();
        await waitUntil(() => firstArrivals(deliveries.byKey.get(stuck) ?? []).length === 3, { what: "the stuck key's events" });
        assert.deepEqual(firstArrivals(deliveries.byKey.get(stuck) ?? []), ids.get(stuck));
        await waitUntil(async () => (await store.backlog()) === 0, { what: 'the outbox to drain' });
        assert.deepEqual(await store.deadLetterCounts(), { parked: 0, waiting: 0 });
      } finally {
        await admin.disconnect();
        await relay.stop();
        await loop;
        await deliveries.stop();
        await db.close();
        await testDb.drop();
      }
    });
  });
}
