// Invariant: Kafka stopping and starting again under the relay loses no event and reorders no
// order's events: rows wait in the outbox while the relay backs off, and everything appended
// before, during and after the outage arrives, each order's events in append order. The relay
// never crashes. Here 1,000 orders × 4 events are appended (one transaction per event, as the
// saga's steps do) with Kafka going down mid-stream and staying down until the appends finish.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { migrate, outboxMigrations } from '../../../platform/migrations';
import { createRelay } from '../../../outbox/relay';
import { createRelayMetrics } from '../../../outbox/relay-metrics';
import { openOutboxStore } from '../../../outbox/store';
import { bothStores } from '../../databases';
import { startTestBroker, type TestBroker } from '../../kafka-broker';
import { waitUntil } from '../../wait';
import { appendOrders, assertDeliveredInOrder, collectDeliveries, quietLog, type Deliveries } from './deliveries';
import { testTopic } from '../../env';

const ORDERS = 1_000;
const STEPS = ['OrderSubmitted', 'OrderConfirmed', 'OrderDispatched', 'OrderCompleted'];

let broker: TestBroker;
before(async () => {
  broker = await startTestBroker();
});
after(() => broker?.close());

for (const { kind, create } of bothStores) {
  describe(`Kafka outage under the relay on ${kind}`, () => {
    test(`${ORDERS} orders × ${STEPS.length} events appended across an outage all arrive, in order`, async () => {
      const testDb = await create();
      const db = testDb.open();
      await migrate(db, outboxMigrations);
      const store = openOutboxStore(db);
      const registry = new Registry();
      const run = randomUUID().slice(0, 8);
      const route = (topic: string) => testTopic(`${topic}.outage-${run}`);
      const kafka = new Kafka({
        clientId: 'outage-test',
        brokers: broker.brokers,
        logLevel: logLevel.NOTHING,
        connectionTimeout: 500,
        retry: { retries: 1, maxRetryTime: 500 },
      });
      const relay = createRelay({
        store,
        kafka,
        log: quietLog,
        route,
        partitions: 3,
        batchSize: 200,
        backoff: { initialMs: 100, maxMs: 1_000 },
        sendTimeoutMs: 5_000,
        metrics: createRelayMetrics(registry, store),
      });
      let settled = false;
      const loop = relay.start().finally(() => (settled = true));
      let deliveries: Deliveries | undefined;
      try {
        await waitUntil(() => relay.status().running, { what: 'the relay to start' });
        const orders = Array.from({ length: ORDERS }, () => `order-${randomUUID()}`);
        const expected = new Map<string, string[]>();
        // Kafka goes down while the appends (and the relaying of the first ones) are under way.
        const appending = appendOrders(db, orders, STEPS, expected);
        await waitUntil(() => relay.status().published >= ORDERS / 2, { what: 'the first events to go out' });
        await broker.stop();
        await appending;
        // Down long enough for several failed rounds, so recovery follows repeated backoff.
        await waitUntil(() => relay.status().failures >= 3, { timeoutMs: 60_000, what: 'the relay to fail three times' });
        assert.ok((await store.backlog()) > 0, 'events wait in the outbox during the outage');
        assert.ok((await store.oldestUnsentAgeMs()) > 0);
        assert.equal(settled, false, 'the relay loop is still running');

        await broker.start();
        await waitUntil(async () => (await store.backlog()) === 0, {
          timeoutMs: 60_000,
          what: 'the backlog to drain after Kafka returns',
        });
        assert.equal(settled, false, 'the relay never stopped');
        assert.equal(relay.status().running, true);
        assert.match(await registry.getSingleMetricAsString('trapeze_outbox_failures_total'), /stage="publish"\} [1-9]/);

        deliveries = await collectDeliveries(broker.brokers, [route('trapeze.orders')]);
        const total = ORDERS * STEPS.length;
        const got = deliveries;
        await waitUntil(() => new Set([...got.byKey.values()].flat()).size >= total, {
          timeoutMs: 60_000,
          what: `${total} distinct events`,
        });
        assertDeliveredInOrder(deliveries, expected);
      } finally {
        await deliveries?.stop();
        await relay.stop();
        await loop;
        await db.close();
        await testDb.drop();
      }
    });
  });
}
