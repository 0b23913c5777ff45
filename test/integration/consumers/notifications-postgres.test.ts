// Invariant (PostgreSQL): an operator's resume followed by a resend never leaves a notification
// suppressed behind it, however the resume interleaves with a consumer transaction that saw the
// switch on; and no database transaction is open while a notification goes to the sender (a
// gateway's network call must not hold the relay's guard or the switch's lock).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import { catalog } from '../../../events/catalog';
import { upcasters } from '../../../events/catalog/upcasters';
import { upcast } from '../../../events/upcasting';
import { createEventConsumer } from '../../../consumers/event-consumer';
import { notificationsContract } from '../../../consumers/notifications/contract';
import { killSwitch, setKillSwitch, type KillSwitch } from '../../../consumers/notifications/kill-switch';
import { notificationsMigrations } from '../../../consumers/notifications/migrations';
import { notifyOnEvents } from '../../../consumers/notifications/notify';
import { resendSuppressed } from '../../../consumers/notifications/resend';
import { mailboxSender, type NotificationSender } from '../../../consumers/notifications/sender';
import { recordProcessed } from '../../../consumers/processed-events';
import type { Database } from '../../../platform/database';
import { migrate } from '../../../platform/migrations';
import { postgresDatabase, type TestDatabase } from '../../databases';
import { waitUntil } from '../../wait';
import { anEvent, createTopics, isolatedRoute, kafkaClient, publish, quiet } from './harness';

describe('notifications on PostgreSQL', () => {
  let store: TestDatabase;
  let db: Database;
  let probe: Client;

  /** Sessions of this database other than the probe's, by what they are doing now. */
  const sessions = async (where: string) =>
    Number(
      (
        await probe.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND ${where}`,
        )
      ).rows[0]?.n,
    );

  before(async () => {
    store = await postgresDatabase();
    db = store.open();
    await migrate(db, notificationsMigrations);
    probe = new Client({ connectionString: store.url });
    await probe.connect();
  });

  after(async () => {
    await probe?.end();
    await db?.close();
    await store?.drop();
  });

  test('a resume waits for the consumer transaction that saw the switch on, so its resend sends that notification', async () => {
    const sender = mailboxSender(db, quiet);
    const theSwitch = killSwitch(sender.channel, { dialect: 'postgres' });
    // The consumer's transaction is held right after it read the switch, as a slow commit would.
    let sawSwitch!: () => void;
    const seen = new Promise<void>((resolve) => (sawSwitch = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held: KillSwitch = {
      async isOn(tx) {
        const on = await theSwitch.isOn(tx);
        sawSwitch();
        await gate;
        return on;
      },
    };
    const apply = notifyOnEvents({ db, sender, killSwitch: held, log: quiet });
    const orderId = `o-${randomUUID()}`;
    const event = upcast(catalog, upcasters, anEvent('OrderConfirmed', orderId));
    const origin = { topic: 'trapeze.orders', partition: 0, offset: '0' };
    await setKillSwitch(db, sender.channel, true, 'test: template bug');

    const consuming = db.transaction(async (tx) => {
      await recordProcessed(tx, 'notifications', event.envelope.id, event.type, origin);
      return apply(tx, event, origin);
    });
    await seen;
    let settled = false;
    const operator = (async () => {
      await setKillSwitch(db, sender.channel, false);
      return resendSuppressed(db, { sender, killSwitch: theSwitch, log: quiet });
    })().finally(() => (settled = true));
    // Either the resume queues behind the consumer's lock, or (without it) the operator is done.
    await waitUntil(async () => settled || (await sessions(`wait_event_type = 'Lock'`)) > 0, {
      what: 'the resume to wait for the consumer transaction',
    });
    release();
    await consuming;
    await operator;

    assert.deepEqual(
      await db.all('SELECT status FROM notifications WHERE order_id = ?', [orderId]),
      [{ status: 'sent' }],
      'resumed and resent, so nothing may stay suppressed',
    );
    assert.equal(
      (await db.all('SELECT 1 FROM notification_mailbox WHERE notification_id = ?', [`order-confirmed:${event.envelope.id}`]))
        .length,
      1,
    );
  });

  test('the sender is called with no transaction open, from the consumer and from a resend', async () => {
    const kafka = kafkaClient('notifications-pg-test');
    const { route } = isolatedRoute();
    await createTopics(kafka, route);
    const mailbox = mailboxSender(db, quiet);
    const openDuringDelivery: number[] = [];
    const sender: NotificationSender = {
      channel: mailbox.channel,
      async deliver(...args: Parameters<NotificationSender['deliver']>) {
        // Stands for a gateway's network call: what is the database doing meanwhile?
        openDuringDelivery.push(await sessions(`(state LIKE 'idle in transaction%' OR backend_xid IS NOT NULL)`));
        await mailbox.deliver(...args);
      },
    };
    const theSwitch = killSwitch(sender.channel, { dialect: 'postgres' });
    const consumer = createEventConsumer({
      name: 'notifications',
      kafka,
      db,
      catalog,
      upcasters,
      contract: notificationsContract,
      apply: notifyOnEvents({ db, sender, killSwitch: theSwitch, log: quiet }),
      route,
      log: quiet,
      groupId: `notifications-${randomUUID()}`,
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await consumer.start();
    try {
      const sentNow = `o-${randomUUID()}`;
      const heldBack = `o-${randomUUID()}`;
      await publish(producer, route, [anEvent('OrderConfirmed', sentNow)]);
      await waitUntil(() => openDuringDelivery.length === 1, { what: 'the first notification to be delivered' });
      await setKillSwitch(db, sender.channel, true, 'test');
      await publish(producer, route, [anEvent('OrderConfirmed', heldBack)]);
      await waitUntil(async () => (await db.all(`SELECT 1 FROM notifications WHERE order_id = ?`, [heldBack])).length === 1, {
        what: 'the second notification to be held back',
      });
      await setKillSwitch(db, sender.channel, false);
      const resent = await resendSuppressed(db, { sender, killSwitch: theSwitch, log: quiet });
      assert.equal(resent.stillSuppressed, false);
      assert.deepEqual(await db.all(`SELECT status FROM notifications WHERE order_id = ?`, [heldBack]), [{ status: 'sent' }]);
      assert.deepEqual(openDuringDelivery, [0, 0], 'open transactions seen while the sender delivered');
    } finally {
      await consumer.stop();
      await producer.disconnect();
    }
  });
});
