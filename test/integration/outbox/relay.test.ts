// Invariant: on either store, every appended event reaches Kafka exactly as the CloudEvents binary
// binding says (key = order id, ce_* headers, data as value), each order's events in append order;
// a paused topic keeps its events in the outbox and delivers them all, in order, once resumed.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import type { Database } from '../../../platform/database';
import { migrate, outboxMigrations } from '../../../platform/migrations';
import { createRelay, type Relay } from '../../../outbox/relay';
import { createRelayMetrics } from '../../../outbox/relay-metrics';
import { openOutboxStore, type OutboxStore } from '../../../outbox/store';
import { bothStores, type TestDatabase } from '../../databases';
import { kafkaBrokers, testTopic } from '../../env';
import { waitUntil } from '../../wait';
import { appendOrders, assertDeliveredInOrder, collectDeliveries, quietLog, type Deliveries } from './deliveries';

for (const { kind, create } of bothStores) {
  describe(`relay on ${kind}`, () => {
    const run = randomUUID().slice(0, 8);
    const route = (topic: string) => testTopic(`${topic}.relay-test-${run}`);
    let testDb: TestDatabase;
    let db: Database;
    let store: OutboxStore;
    let relay: Relay;
    let deliveries: Deliveries;
    const registry = new Registry();

    before(async () => {
      testDb = await create();
      db = testDb.open();
      await migrate(db, outboxMigrations);
      store = openOutboxStore(db);
      const kafka = new Kafka({ clientId: 'relay-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
      relay = createRelay({
        store,
        kafka,
        log: quietLog,
        route,
        batchSize: 100,
        partitions: 3,
        metrics: createRelayMetrics(registry, store),
      });
      void relay.start();
      await waitUntil(() => relay.status().running, { what: 'the relay to start' });
      deliveries = await collectDeliveries(kafkaBrokers(), [route('trapeze.orders'), route('trapeze.payments')]);
    });
    after(async () => {
      await relay.stop();
      await deliveries.stop();
      await db.close();
      await testDb.drop();
    });

    test('appended events arrive in per-order order, in the binary binding', async () => {
      const orders = Array.from({ length: 50 }, () => `order-${randomUUID()}`);
      const expected = new Map<string, string[]>();
      await appendOrders(db, orders, ['OrderSubmitted', 'OrderConfirmed', 'OrderCompleted'], expected);
      await waitUntil(() => deliveries.count() >= 150, { what: '150 events to arrive' });
      assertDeliveredInOrder(deliveries, expected);
      assert.equal(await store.backlog(), 0);

      const first = deliveries.first;
      assert.ok(first);
      assert.equal(first.headers['ce_specversion'], '1.0');
      assert.equal(first.headers['ce_subject'], first.key);
      assert.equal(first.headers['ce_source'], '/trapeze/orders');
      assert.equal(first.headers['content-type'], 'application/json');
      assert.deepEqual(Object.keys(JSON.parse(first.value) as object).sort(), ['orderId', 'step']);

      const metrics = await registry.getSingleMetricAsString('trapeze_outbox_published_total');
      assert.match(metrics, new RegExp(`trapeze_outbox_published_total\\{topic="${route('trapeze.orders')}"\\} 150`));
    });

    test('a paused topic buffers its events; resuming delivers them all, in order', async () => {
      const orders = Array.from({ length: 10 }, () => `order-${randomUUID()}`);
      await store.pause('trapeze.payments', 'test: downstream incident');
      const expectedPayments = new Map<string, string[]>();
      const expectedOrders = new Map<string, string[]>();
      await appendOrders(db, orders, ['PaymentAuthorized', 'PaymentCaptured'], expectedPayments, { context: 'payments' });
      await appendOrders(db, orders, ['OrderSubmitted'], expectedOrders);
      // The orders topic keeps flowing, which also shows the relay has passed the paused rows by.
      await waitUntil(() => orders.every((o) => deliveries.byKey.get(o)?.length === 1), { what: 'order events to flow' });
      assert.equal(await store.backlog(), 20);
      const gauge = await registry.getSingleMetricAsString('trapeze_outbox_paused_topics');
      assert.match(gauge, /topic="trapeze.payments"\} 1/);

      await store.resume('trapeze.payments');
      await waitUntil(async () => (await store.backlog()) === 0, { what: 'the buffered events to go' });
      await waitUntil(() => orders.every((o) => deliveries.byKey.get(o)?.length === 3), { what: 'payment events to arrive' });
      for (const o of orders) {
        const got = deliveries.byKey.get(o) ?? [];
        assert.deepEqual(
          got.filter((id) => expectedPayments.get(o)?.includes(id)),
          expectedPayments.get(o),
        );
      }
    });
  });
}
