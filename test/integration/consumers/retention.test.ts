// Invariant: the consumers' own tables do not grow without bound: rows past retention are pruned
// in bounded batches until none is left (and counted), rows within it are kept, decisions still
// waiting (suppressed notifications) are never pruned, and an event redelivered within retention
// is still recognised as a duplicate.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ConfigResourceTypes } from 'kafkajs';
import type { Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { catalog } from '../../../events/catalog';
import { upcasters } from '../../../events/catalog/upcasters';
import { toKafkaMessage } from '../../../events/kafka-binding';
import { createEventConsumer, type EventConsumer } from '../../../consumers/event-consumer';
import { notificationsMigrations, notificationsRetained } from '../../../consumers/notifications/migrations';
import { orderViewContract } from '../../../consumers/order-view/contract';
import { orderViewMigrations, orderViewRetained } from '../../../consumers/order-view/migrations';
import { projectOrderView } from '../../../consumers/order-view/projection';
import { assertRetentionCovers, createPruner, redeliveryWindowMs } from '../../../consumers/retention';
import type { Database } from '../../../platform/database';
import { migrate } from '../../../platform/migrations';
import { bothStores, type TestDatabase } from '../../databases';
import { waitUntil } from '../../wait';
import { anEvent, createTopics, isolatedRoute, kafkaClient, quiet, topicOf } from './harness';

const DAY = 24 * 3_600_000;
const RETENTION_DAYS = 30;

for (const { kind, create } of bothStores) {
  describe(`consumer retention on ${kind}`, () => {
    let store: TestDatabase;
    let db: Database;

    before(async () => {
      store = await create();
      db = store.open();
      await migrate(db, [...orderViewMigrations, ...notificationsMigrations]);
    });

    after(async () => {
      await db?.close();
      await store?.drop();
    });

    const ids = async (sql: string) => (await db.all<{ id: string }>(sql)).map((r) => r.id).sort();

    test('rows past retention are pruned in batches until none is left; recent and waiting rows stay', async () => {
      const now = Date.now();
      const old = now - (RETENTION_DAYS + 1) * DAY;
      const recent = now - (RETENTION_DAYS - 1) * DAY;
      const processed = (consumer: string, id: string, at: number) =>
        db.run(
          `INSERT INTO ${consumer}_processed_events (event_id, type, topic, kafka_partition, kafka_offset, processed_at) VALUES (?, 'OrderConfirmed', 't', 0, '0', ?)`,
          [id, at],
        );
      for (let i = 0; i < 5; i += 1) await processed('order_view', `old-${i}`, old - i);
      await processed('order_view', 'recent', recent);
      for (let i = 0; i < 3; i += 1) await processed('notifications', `old-${i}`, old);
      await processed('notifications', 'recent', recent);
      const step = (id: string, at: number) =>
        db.run(
          `INSERT INTO order_view_steps (event_id, order_id, type, written_version, occurred_at, topic, kafka_partition, kafka_offset, summary, applied_at)
           VALUES (?, 'o-1', 'OrderSubmitted', 1, '2026-01-01T00:00:00Z', 't', 0, '0', 'submitted', ?)`,
          [id, at],
        );
      for (let i = 0; i < 3; i += 1) await step(`old-${i}`, old);
      await step('recent', recent);
      const mail = (id: string, at: number) =>
        db.run(
          `INSERT INTO notification_mailbox (notification_id, recipient, subject, body, delivered_at) VALUES (?, 'a@example.com', 's', 'b', ?)`,
          [id, at],
        );
      await mail('old', old);
      await mail('recent', recent);
      const decision = (id: string, status: string, at: number) =>
        db.run(
          `INSERT INTO notifications (id, event_id, order_id, kind, status, message, decided_at, attempts) VALUES (?, ?, 'o-1', 'order-confirmed', ?, '{}', ?, 0)`,
          [id, id, status, at],
        );
      await decision('old-sent', 'sent', old);
      await decision('old-suppressed', 'suppressed', old);
      await decision('old-pending', 'pending', old);
      await decision('recent-sent', 'sent', recent);

      const registry = new Registry();
      const retentionMs = RETENTION_DAYS * DAY;
      const view = createPruner({ db, consumer: 'order-view', tables: orderViewRetained, retentionMs, batchSize: 2, registry });
      const notes = createPruner({
        db,
        consumer: 'notifications',
        tables: notificationsRetained,
        retentionMs,
        batchSize: 2,
        registry,
      });
      const pending = async () =>
        Object.fromEntries(
          (await registry.getSingleMetric('trapeze_consumer_prune_pending_rows')?.get())?.values.map((v) => [
            `${v.labels.consumer}/${v.labels.table}`,
            v.value,
          ]) ?? [],
        );
      assert.deepEqual(await pending(), {
        'order-view/order_view_processed_events': 5,
        'order-view/order_view_steps': 3,
        'notifications/notifications_processed_events': 3,
        'notifications/notification_mailbox': 1,
        'notifications/notifications': 1,
      });

      assert.deepEqual(await view.prune(now), { order_view_processed_events: 5, order_view_steps: 3 });
      assert.deepEqual(await notes.prune(now), { notifications_processed_events: 3, notification_mailbox: 1, notifications: 1 });

      assert.deepEqual(await ids('SELECT event_id AS id FROM order_view_processed_events'), ['recent']);
      assert.deepEqual(await ids('SELECT event_id AS id FROM notifications_processed_events'), ['recent']);
      assert.deepEqual(await ids('SELECT event_id AS id FROM order_view_steps'), ['recent']);
      assert.deepEqual(await ids('SELECT notification_id AS id FROM notification_mailbox'), ['recent']);
      assert.deepEqual(await ids('SELECT id FROM notifications'), ['old-pending', 'old-suppressed', 'recent-sent']);
      assert.deepEqual(Object.values(await pending()), [0, 0, 0, 0, 0]);
      const prunedTotal = (await registry.getSingleMetric('trapeze_consumer_pruned_rows_total')?.get())?.values ?? [];
      assert.equal(
        prunedTotal.reduce((n, v) => n + v.value, 0),
        13,
      );
    });

    test('an event redelivered within retention, after a prune, is still a duplicate', async () => {
      const kafka = kafkaClient('retention-test');
      const { route } = isolatedRoute();
      await createTopics(kafka, route);
      const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const consumer: EventConsumer = createEventConsumer({
        name: 'order-view',
        kafka,
        db,
        catalog,
        upcasters,
        contract: orderViewContract,
        apply: projectOrderView(kind),
        route,
        log: quiet,
        groupId: `view-${randomUUID()}`,
      });
      await consumer.start();
      try {
        const orderId = `o-${randomUUID()}`;
        const submitted = anEvent('OrderSubmitted', orderId);
        const send = () =>
          producer.send({ topic: topicOf(submitted, route), acks: -1, messages: [toKafkaMessage(orderId, submitted)] });
        await send();
        await waitUntil(() => consumer.status().applied === 1, { what: 'the event to be applied' });
        // Applied 29 days ago: inside the 30 days of retention.
        await db.run('UPDATE order_view_processed_events SET processed_at = ? WHERE event_id = ?', [
          Date.now() - (RETENTION_DAYS - 1) * DAY,
          submitted.id,
        ]);
        const pruner = createPruner({ db, consumer: 'order-view', tables: orderViewRetained, retentionMs: RETENTION_DAYS * DAY });
        await pruner.prune();
        await send();
        await waitUntil(() => consumer.status().duplicates === 1, { what: 'the redelivery to be seen as a duplicate' });
        assert.equal(consumer.status().applied, 1);
        const row = await db.get<{ events_applied: number }>('SELECT events_applied FROM order_view WHERE order_id = ?', [
          orderId,
        ]);
        assert.equal(Number(row?.events_applied), 1);
      } finally {
        await consumer.stop();
        await producer.disconnect();
      }
    });
  });
}

test('a consumer retention the broker can outlast (topic plus dead-letter retention, read from the broker) is refused, naming both', async () => {
  const kafka = kafkaClient('retention-window-test');
  const { route } = isolatedRoute();
  const topic = route('trapeze.orders');
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: false,
      topics: [
        { topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: String(10 * DAY) }] },
        { topic: `${topic}.dlq`, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: String(25 * DAY) }] },
      ],
    });
    const windowMs = await waitUntil(
      async () => {
        const ms = await redeliveryWindowMs(admin, [topic]);
        return ms === 35 * DAY ? ms : undefined;
      },
      { what: 'the topics retention to be readable' },
    );
    assert.throws(
      () => assertRetentionCovers('order-view', RETENTION_DAYS * DAY, windowMs),
      /order-view: CONSUMER_RETENTION_DAYS \(30 days\) must outlive what Kafka can redeliver: its topics plus their dead-letter topics keep messages 35 days/,
    );
    assert.doesNotThrow(() => assertRetentionCovers('order-view', 40 * DAY, windowMs));
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
    });
    await waitUntil(async () => (await redeliveryWindowMs(admin, [topic])) === Infinity, {
      what: 'unlimited retention to be read as for ever',
    });
  } finally {
    await admin.disconnect();
  }
});
