// Invariant: a customer is told "order confirmed" exactly once per confirmed order and never
// before OrderConfirmed; redelivered events, unknown fields and a kill switch change none of that:
// while the switch is on nothing is sent, nothing is lost, and a resend sends each held one once.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Producer } from 'kafkajs';
import { catalog } from '../../../events/catalog';
import { toKafkaMessage } from '../../../events/kafka-binding';
import { upcasters } from '../../../events/catalog/upcasters';
import { createEventConsumer, type EventConsumer } from '../../../consumers/event-consumer';
import { notificationsContract } from '../../../consumers/notifications/contract';
import { killSwitch, setKillSwitch } from '../../../consumers/notifications/kill-switch';
import { notificationsMigrations } from '../../../consumers/notifications/migrations';
import { notifyOnEvents, type NotifyDeps } from '../../../consumers/notifications/notify';
import { resendSuppressed } from '../../../consumers/notifications/resend';
import { mailboxSender, type NotificationSender } from '../../../consumers/notifications/sender';
import { migrate } from '../../../platform/migrations';
import type { Database } from '../../../platform/database';
import { bothStores, type TestDatabase } from '../../databases';
import { waitUntil } from '../../wait';
import { anEvent, completedSaga, createTopics, isolatedRoute, kafkaClient, publish, quiet, topicOf } from './harness';

for (const { kind, create } of bothStores) {
  describe(`notifications on ${kind}`, () => {
    const kafka = kafkaClient('notifications-test');
    const { route } = isolatedRoute();
    let testDb: TestDatabase;
    let db: Database;
    let sender: NotificationSender;
    let deps: NotifyDeps;
    let producer: Producer;
    let consumer: EventConsumer;

    const handled = () => {
      const s = consumer.status();
      return s.applied + s.duplicates + s.ignored + s.deadLettered;
    };
    const notificationsOf = (orderId: string) =>
      db.all<{ id: string; status: string }>('SELECT id, status FROM notifications WHERE order_id = ?', [orderId]);
    const mailboxOf = (orderId: string) =>
      db.all<{ recipient: string; subject: string }>(
        'SELECT m.recipient, m.subject FROM notification_mailbox m JOIN notifications n ON n.id = m.notification_id WHERE n.order_id = ?',
        [orderId],
      );

    before(async () => {
      testDb = await create();
      db = testDb.open();
      await migrate(db, notificationsMigrations);
      sender = mailboxSender(db, quiet);
      deps = { db, sender, killSwitch: killSwitch(sender.channel, { dialect: kind }), log: quiet };
      await createTopics(kafka, route);
      producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      consumer = createEventConsumer({
        name: 'notifications',
        kafka,
        db,
        catalog,
        upcasters,
        contract: notificationsContract,
        apply: notifyOnEvents(deps),
        route,
        log: quiet,
        groupId: `notifications-${randomUUID()}`,
      });
      await consumer.start();
    });

    after(async () => {
      await consumer?.stop();
      await producer?.disconnect();
      await db.close();
      await testDb.drop();
    });

    test('nothing is sent before OrderConfirmed, exactly one message after it', async () => {
      const orderId = `o-${randomUUID()}`;
      const saga = completedSaga(orderId);
      const beforeConfirmation = saga.slice(0, 4); // submitted, authorized, reserved, allocated
      const start = handled();
      await publish(producer, route, beforeConfirmation);
      // Only the orders topic is read: OrderSubmitted is the one of the four that reaches the consumer.
      await waitUntil(() => consumer.status().ignored >= 1 && handled() >= start + 1, {
        what: 'OrderSubmitted to be seen and ignored',
      });
      assert.deepEqual(await notificationsOf(orderId), []);

      await publish(producer, route, saga.slice(4));
      const sent = await waitUntil(
        async () => {
          const rows = await notificationsOf(orderId);
          return rows.length > 0 && rows.every((r) => r.status !== 'pending') ? rows : undefined;
        },
        { what: 'the confirmation to be sent' },
      );
      assert.deepEqual(
        sent.map((n) => n.status),
        ['sent'],
      );
      assert.deepEqual(await mailboxOf(orderId), [
        { recipient: 'ada@example.com', subject: `Your order ${orderId} is confirmed` },
      ]);
    });

    test('a redelivered OrderConfirmed, even with fields this reader does not know, sends once', async () => {
      const orderId = `o-${randomUUID()}`;
      const confirmed = anEvent('OrderConfirmed', orderId, {
        data: { loyaltyTier: 'gold', customer: { name: 'Ada Example', email: 'ada@example.com', phone: '+49 30 000' } },
      });
      const start = consumer.status();
      const message = toKafkaMessage(orderId, confirmed);
      await producer.send({ topic: topicOf(confirmed, route), acks: -1, messages: [message, message, message] });
      await waitUntil(
        async () =>
          consumer.status().applied === start.applied + 1 &&
          consumer.status().duplicates === start.duplicates + 2 &&
          (await mailboxOf(orderId)).length === 1,
        {
          what: 'one apply and two duplicates',
        },
      );
      assert.equal((await notificationsOf(orderId)).length, 1);
      assert.equal((await mailboxOf(orderId)).length, 1);
    });

    test('the kill switch holds notifications back without losing them; a resend sends each once', async () => {
      const orderId = `o-${randomUUID()}`;
      await setKillSwitch(db, sender.channel, true, 'test: template bug');
      await publish(producer, route, [anEvent('OrderConfirmed', orderId)]);
      const held = await waitUntil(
        async () => {
          const rows = await notificationsOf(orderId);
          return rows.length > 0 ? rows : undefined;
        },
        { what: 'the confirmation to be recorded' },
      );
      assert.deepEqual(
        held.map((n) => n.status),
        ['suppressed'],
      );
      assert.deepEqual(await mailboxOf(orderId), []);
      assert.deepEqual(await resendSuppressed(db, deps), { sent: 0, stillSuppressed: true });

      await setKillSwitch(db, sender.channel, false);
      const first = await resendSuppressed(db, deps);
      assert.ok(first.sent >= 1);
      assert.deepEqual(
        (await notificationsOf(orderId)).map((n) => n.status),
        ['sent'],
      );
      assert.equal((await mailboxOf(orderId)).length, 1);
      assert.deepEqual(await resendSuppressed(db, deps), { sent: 0, stillSuppressed: false });
      assert.equal((await mailboxOf(orderId)).length, 1);
    });

    test('a kill switch forced on by configuration wins over the database switch', async () => {
      const forced = killSwitch(sender.channel, { dialect: kind, forcedOn: true });
      assert.equal(await db.transaction((tx) => forced.isOn(tx)), true);
      assert.equal(await db.transaction((tx) => killSwitch(sender.channel, { dialect: kind }).isOn(tx)), false);
    });
  });
}
