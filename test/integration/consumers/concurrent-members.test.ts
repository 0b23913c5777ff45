// Invariant: on PostgreSQL, several order-view group members share the topics (and so one
// order's events): across them every event is applied exactly once and every row is complete.
// (order-view-locking.test.ts provokes the concurrent case directly.)
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { Message } from 'kafkajs';
import { catalog } from '../../../events/catalog';
import { toKafkaMessage } from '../../../events/kafka-binding';
import { upcasters } from '../../../events/catalog/upcasters';
import { createEventConsumer } from '../../../consumers/event-consumer';
import { orderViewContract } from '../../../consumers/order-view/contract';
import { orderViewMigrations } from '../../../consumers/order-view/migrations';
import { projectOrderView } from '../../../consumers/order-view/projection';
import { migrate } from '../../../platform/migrations';
import { postgresDatabase } from '../../databases';
import { waitUntil } from '../../wait';
import { completedSaga, createTopics, isolatedRoute, kafkaClient, quiet, topicOf } from './harness';

test('three members on PostgreSQL apply 200 sagas with every event counted once', async () => {
  const kafka = kafkaClient('members-test');
  const { route } = isolatedRoute();
  await createTopics(kafka, route);
  const store = await postgresDatabase();
  const db = store.open();
  await migrate(db, orderViewMigrations);
  const groupId = `view-${randomUUID()}`;
  const members = [1, 2, 3].map(() =>
    createEventConsumer({
      name: 'order-view',
      kafka,
      db,
      catalog,
      upcasters,
      contract: orderViewContract,
      apply: projectOrderView('postgres'),
      route,
      log: quiet,
      groupId,
    }),
  );
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    await producer.connect();
    // The group settles on three members before anything is produced: otherwise the first member
    // to join may drain the topics before the others are assigned partitions. The events then go
    // out in one batch, so the members read one order's events from four topics at about the same time.
    await Promise.all(members.map((m) => m.start()));
    const admin = kafka.admin();
    await admin.connect();
    await waitUntil(
      async () => {
        const { groups } = await admin.describeGroups([groupId]);
        const group = groups[0];
        return (
          group?.state === 'Stable' &&
          group.members.length === members.length &&
          group.members.every((m) => m.memberAssignment.length > 0)
        );
      },
      { what: 'three members assigned', timeoutMs: 60_000 },
    );
    await admin.disconnect();
    const orders = Array.from({ length: 200 }, (_, i) => `m-${i}-${randomUUID().slice(0, 8)}`);
    const byTopic = new Map<string, Message[]>();
    for (const orderId of orders) {
      for (const env of completedSaga(orderId)) {
        const topic = topicOf(env, route);
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), toKafkaMessage(orderId, env)]);
      }
    }
    await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    const total = orders.length * 8;
    await waitUntil(() => members.reduce((n, m) => n + m.status().applied, 0) >= total, {
      what: `${total} events applied`,
      timeoutMs: 120_000,
    });
    assert.ok(members.filter((m) => m.status().applied > 0).length >= 2, 'the work was shared');
    const rows = await db.all<{ status: string; events_applied: number; captured_amount: number }>(
      'SELECT status, events_applied, captured_amount FROM order_view',
    );
    assert.equal(rows.length, orders.length);
    assert.deepEqual(
      new Set(rows.map((r) => `${r.status}/${r.events_applied}/${r.captured_amount}`)),
      new Set(['COMPLETED/8/3100']),
    );
    assert.equal(
      members.reduce((n, m) => n + m.status().applied, 0),
      total,
      'each event applied once across members',
    );
  } finally {
    await producer.disconnect();
    await Promise.all(members.map((m) => m.stop()));
    await db.close();
    await store.drop();
  }
});
