// Invariant: Kafka stopped while real sagas run (200 in `npm test`, 1,000 in `npm run
// test:outage`), then started again, loses no event and reorders no order's events: the sagas finish while their events wait in the outbox, the relay
// backs off without crashing, and once Kafka is back every outbox row arrives at least once, each
// order's first arrivals on each topic in outbox sequence order. Unlike kafka-outage.test.ts, the
// events are written by real sagas (saga worker on the Temporal dev server, typed client), nine in
// ten confirmed for dispatch and one in ten declined by the payment provider.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { createRelay } from '../../../outbox/relay';
import { openOutboxStore } from '../../../outbox/store';
import type { SagaResult } from '../../../workflows/definitions';
import { startTestBroker, type TestBroker } from '../../kafka-broker';
import { waitUntil } from '../../wait';
import { anOrder, startHarness, uniqueId, type SagaHarness } from '../workflows/harness';
import { assertDeliveredInOrder, collectDeliveries, quietLog, type Deliveries } from './deliveries';
import { testTopic } from '../../env';

// 200 sagas still outlast the outage many times over; the 1,000 of the issue that asked for this
// test take 4½ minutes, a third of `npm test`, so they run in their own command.
const SAGAS = Number(process.env.OUTAGE_SAGAS ?? 200);
const IN_FLIGHT = 50;
const declined = (i: number) => i % 10 === 9;

/** Runs `work` over `items` with at most `limit` at a time. */
async function bounded<T, R>(items: T[], limit: number, work: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

let broker: TestBroker;
let h: SagaHarness;
before(async () => {
  broker = await startTestBroker();
  h = await startHarness({ stock: { beans: SAGAS * 2, mug: SAGAS } });
});
after(async () => {
  await h?.stop();
  await broker?.close();
});

describe(`Kafka outage under ${SAGAS} real sagas`, () => {
  test(`${SAGAS} sagas run while Kafka is down; afterwards every event arrives, per-order order kept`, async () => {
    const store = openOutboxStore(h.db);
    const run = randomUUID().slice(0, 8);
    const route = (topic: string) => testTopic(`${topic}.saga-outage-${run}`);
    const kafka = new Kafka({
      clientId: `saga-outage-${run}`,
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
    });
    let settled = false;
    const loop = relay.start().finally(() => (settled = true));
    const deliveries: Deliveries[] = [];
    try {
      await waitUntil(() => relay.status().running, { what: 'the relay to start' });
      await broker.stop();

      const sagasBegan = Date.now();
      const ids = Array.from({ length: SAGAS }, (_, i) => uniqueId(declined(i) ? `outage-declined-${i}` : `outage-${i}`));
      const results = await bounded(ids, IN_FLIGHT, async (orderId, i): Promise<SagaResult> => {
        await h.orders.startOrder(anOrder({ orderId, payment: { methodToken: declined(i) ? 'tok_decline' : 'tok_visa' } }));
        if (!declined(i)) {
          await waitUntil(async () => (await h.orders.getOrder(orderId)).status === 'AWAITING_DISPATCH', {
            timeoutMs: 120_000,
            intervalMs: 500,
            what: `${orderId} to await dispatch`,
          });
          const answer = await h.orders.confirmDispatch(orderId, { trackingNumber: `TRK-${i}` });
          assert.equal(answer.accepted, true, `${orderId}: dispatch confirmed`);
        }
        return h.orders.orderOutcome(orderId);
      });
      const sagasMs = Date.now() - sagasBegan;
      const expectedStatus = ids.map((_, i) => (declined(i) ? 'REJECTED' : 'COMPLETED'));
      assert.deepEqual(
        results.map((r) => r.status),
        expectedStatus,
      );

      // All sagas ended with Kafka down: their events wait, and the relay is alive and backing off.
      const rows = await h.db.all<{ id: string; topic: string; msg_key: string }>(
        'SELECT id, topic, msg_key FROM outbox ORDER BY seq',
      );
      assert.ok(rows.length >= SAGAS * 3, `the sagas wrote their events (${rows.length})`);
      assert.equal(new Set(rows.map((r) => r.msg_key)).size, SAGAS, 'every saga wrote events');
      await waitUntil(() => relay.status().failures >= 3, { timeoutMs: 60_000, what: 'the relay to fail three times' });
      assert.equal(await store.backlog(), rows.length, 'nothing could be published while Kafka was down');
      assert.equal(relay.status().published, 0);
      assert.equal(relay.status().running, true, 'the relay is still running');
      assert.equal(settled, false, 'the relay loop has not ended');

      const drainBegan = Date.now();
      await broker.start();
      await waitUntil(async () => (await store.backlog()) === 0, {
        timeoutMs: 120_000,
        intervalMs: 250,
        what: 'the outbox to drain after Kafka returns',
      });
      const drainMs = Date.now() - drainBegan;
      assert.equal(settled, false, 'the relay never stopped');
      assert.equal(relay.status().running, true);

      // Read back every topic from the beginning with fresh consumer groups, one per topic, so
      // the order check is per (topic, order).
      const topics = [...new Set(rows.map((r) => r.topic))];
      const expected = new Map<string, Map<string, string[]>>(topics.map((t) => [t, new Map()]));
      for (const r of rows) {
        const byKey = expected.get(r.topic) as Map<string, string[]>;
        byKey.set(r.msg_key, [...(byKey.get(r.msg_key) ?? []), r.id]);
      }
      for (const topic of topics) deliveries.push(await collectDeliveries(broker.brokers, [route(topic)]));
      const distinct = () => deliveries.reduce((n, d) => n + new Set([...d.byKey.values()].flat()).size, 0);
      await waitUntil(() => distinct() >= rows.length, { timeoutMs: 60_000, what: `${rows.length} distinct events read back` });
      topics.forEach((topic, i) =>
        assertDeliveredInOrder(deliveries[i] as Deliveries, expected.get(topic) as Map<string, string[]>),
      );
      const arrived = new Set(deliveries.flatMap((d) => [...d.byKey.values()].flat()));
      assert.deepEqual(
        rows.filter((r) => !arrived.has(r.id)),
        [],
        'no outbox row is missing from Kafka',
      );

      console.log(
        `saga-kafka-outage: ${SAGAS} sagas (${IN_FLIGHT} in flight) ended with Kafka down in ${(sagasMs / 1000).toFixed(1)} s; ` +
          `${rows.length} events on ${topics.length} topics drained in ${(drainMs / 1000).toFixed(1)} s after restart; ` +
          `relay failures during the outage: ${relay.status().failures}, messages read back: ${deliveries.reduce((n, d) => n + d.count(), 0)}`,
      );
    } finally {
      for (const d of deliveries) await d.stop();
      await relay.stop();
      await loop;
    }
  });
});
