// Invariant: every event a completed (or refused) saga writes to the outbox reaches the order
// view exactly once in effect, and one order's events of one topic are applied in the order they
// were written, on both stores; a relay that publishes everything again changes nothing. The
// customer of each confirmed order is notified once, the customer of a refused order never.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type Worker } from '@temporalio/worker';
import { participantMigrations } from '../../../activities';
import { restock } from '../../../activities/inventory/ledger';
import { OrderInput } from '../../../domain/order';
import { catalog } from '../../../events/catalog';
import { upcasters } from '../../../events/catalog/upcasters';
import { createEventConsumer, type EventConsumer } from '../../../consumers/event-consumer';
import { notificationsContract } from '../../../consumers/notifications/contract';
import { killSwitch } from '../../../consumers/notifications/kill-switch';
import { notificationsMigrations } from '../../../consumers/notifications/migrations';
import { notifyOnEvents } from '../../../consumers/notifications/notify';
import { mailboxSender } from '../../../consumers/notifications/sender';
import { orderViewContract } from '../../../consumers/order-view/contract';
import { orderViewMigrations } from '../../../consumers/order-view/migrations';
import { projectOrderView } from '../../../consumers/order-view/projection';
import { findOrderView } from '../../../consumers/order-view/query';
import { formatTrail, orderEventTrail, settledTrails } from '../../../consumers/trail';
import type { Database } from '../../../platform/database';
import { migrate } from '../../../platform/migrations';
import { createRelay, type Relay } from '../../../outbox/relay';
import { openOutboxStore } from '../../../outbox/store';
import { createSagaWorker } from '../../../workers/saga-worker';
import { confirmDispatchUpdate, sagaQuery, WORKFLOW_TYPE, type SagaResult } from '../../../workflows/definitions';
import { workflowIdFor } from '../../../domain/ids';
import { bothStores, type TestDatabase } from '../../databases';
import { temporalAddress, temporalNamespace } from '../../env';
import { waitUntil } from '../../wait';
import { isolatedRoute, kafkaClient, quiet } from './harness';

const read = new Set<string>(orderViewContract.reads.map((r) => r.type));
let bundle: { code: string };

before(async () => {
  const silent = () => undefined;
  bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../../workflows'),
    logger: { log: silent, trace: silent, debug: silent, info: silent, warn: silent, error: silent },
  });
});

const anOrder = (orderId: string, methodToken: string, capture: 'at-dispatch' | 'at-confirmation') =>
  OrderInput.parse({
    orderId,
    customer: { id: `cus-${orderId}`, name: 'Ada Example', email: 'ada@example.com' },
    lines: [
      { sku: 'TEA-GREEN-100', quantity: 2, unitPrice: { amount: 650, currency: 'EUR' } },
      { sku: 'MUG-STONE', quantity: 1, unitPrice: { amount: 1800, currency: 'EUR' } },
    ],
    shippingAddress: { name: 'Ada Example', line1: '1 Example Street', city: 'Berlin', postalCode: '10115', country: 'DE' },
    payment: { methodToken, capture },
  });

for (const { kind, create } of bothStores) {
  describe(`saga → outbox → Kafka → order view on ${kind}`, () => {
    const { route } = isolatedRoute();
    const kafka = kafkaClient('saga-to-view');
    const taskQueue = `saga-to-view-${randomUUID()}`;
    let sagaStore: TestDatabase;
    let viewStore: TestDatabase;
    let db: Database;
    let viewDb: Database;
    let connection: NativeConnection;
    let worker: Worker;
    let running: Promise<void>;
    let client: Client;
    let relay: Relay;
    let consumer: EventConsumer;
    let notifications: EventConsumer;

    before(async () => {
      sagaStore = await create();
      viewStore = await create();
      db = sagaStore.open();
      viewDb = viewStore.open();
      await migrate(db, participantMigrations);
      await db.transaction((tx) => restock(tx, { 'TEA-GREEN-100': 1_000, 'MUG-STONE': 1_000 }));
      await migrate(viewDb, orderViewMigrations);
      await migrate(viewDb, notificationsMigrations);
      connection = await NativeConnection.connect({ address: temporalAddress() });
      worker = await createSagaWorker({ namespace: temporalNamespace(), connection, db, taskQueue, workflowBundle: bundle });
      running = worker.run();
      client = new Client({
        connection: await Connection.connect({ address: temporalAddress() }),
        namespace: temporalNamespace(),
      });
      relay = createRelay({ store: openOutboxStore(db), kafka, route, partitions: 3, log: quiet });
      void relay.start();
      consumer = createEventConsumer({
        name: 'order-view',
        kafka,
        db: viewDb,
        catalog,
        upcasters,
        contract: orderViewContract,
        apply: projectOrderView(kind),
        route,
        log: quiet,
        groupId: `view-${taskQueue}`,
      });
      await consumer.start();
      const sender = mailboxSender(viewDb, quiet);
      notifications = createEventConsumer({
        name: 'notifications',
        kafka,
        db: viewDb,
        catalog,
        upcasters,
        contract: notificationsContract,
        apply: notifyOnEvents({ db: viewDb, sender, killSwitch: killSwitch(sender.channel, { dialect: kind }), log: quiet }),
        route,
        log: quiet,
        groupId: `notify-${taskQueue}`,
      });
      await notifications.start();
    });

    after(async () => {
      await notifications?.stop();
      await consumer?.stop();
      await relay?.stop();
      worker?.shutdown();
      await running;
      await connection?.close();
      await client?.connection.close();
      await db?.close();
      await viewDb?.close();
      await sagaStore?.drop();
      await viewStore?.drop();
    });

    test('every event of every saga is applied once, per-order order kept, replay changes nothing', async () => {
      const orders = [
        ...Array.from({ length: 16 }, (_, i) =>
          anOrder(`ok-${i}-${randomUUID().slice(0, 8)}`, 'tok_visa', i % 2 ? 'at-confirmation' : 'at-dispatch'),
        ),
        ...Array.from({ length: 4 }, (_, i) =>
          anOrder(`declined-${i}-${randomUUID().slice(0, 8)}`, 'tok_decline', 'at-dispatch'),
        ),
      ];
      const results = await Promise.all(
        orders.map(async (order) => {
          const handle = await client.workflow.start(WORKFLOW_TYPE, {
            taskQueue,
            workflowId: workflowIdFor(order.orderId),
            args: [order],
          });
          if (order.payment.methodToken !== 'tok_decline') {
            await waitUntil(async () => (await handle.query(sagaQuery)).status === 'AWAITING_DISPATCH', {
              what: `${order.orderId} to await dispatch`,
            });
            await handle.executeUpdate(confirmDispatchUpdate, { args: [{ trackingNumber: `TRK-${order.orderId}` }] });
          }
          return (await handle.result()) as SagaResult;
        }),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        [...Array<string>(16).fill('COMPLETED'), ...Array<string>(4).fill('REJECTED')],
      );

      const ids = orders.map((o) => o.orderId);
      const written = (
        await db.all<{ id: string; topic: string; msg_key: string; type: string }>(
          `SELECT id, topic, msg_key, type FROM outbox WHERE msg_key IN (${ids.map(() => '?').join(', ')}) ORDER BY seq`,
          ids,
        )
      ).filter((row) => read.has(row.type));
      assert.ok(written.length >= 16 * 8 + 4 * 3, `the sagas wrote their events (${written.length})`);
      const applied = async () =>
        viewDb.all<{ event_id: string; order_id: string; topic: string; type: string }>(
          `SELECT event_id, order_id, topic, type FROM order_view_steps WHERE order_id IN (${ids.map(() => '?').join(', ')}) ORDER BY seq`,
          ids,
        );
      await waitUntil(async () => (await applied()).length >= written.length, {
        what: `${written.length} events to reach the view`,
        timeoutMs: 60_000,
      });

      const steps = await applied();
      assert.deepEqual(
        steps.map((s) => s.event_id).sort(),
        written.map((w) => w.id).sort(),
        'each written event applied exactly once',
      );
      for (const id of ids) {
        for (const topic of new Set(written.map((w) => w.topic))) {
          const wrote = written.filter((w) => w.msg_key === id && w.topic === topic).map((w) => w.type);
          const got = steps.filter((s) => s.order_id === id && s.topic === route(topic)).map((s) => s.type);
          assert.deepEqual(got, wrote, `${id} on ${topic}: applied in written order`);
        }
      }
      for (const r of results) {
        const view = await findOrderView(viewDb, r.orderId);
        assert.equal(view?.status, r.status, r.orderId);
        if (r.status === 'COMPLETED')
          assert.deepEqual(view?.amounts, {
            currency: 'EUR',
            total: 3100,
            authorized: 3100,
            voided: 0,
            captured: 3100,
            refunded: 0,
          });
      }

      const notified = async () =>
        viewDb.all<{ order_id: string; status: string }>(
          `SELECT order_id, status FROM notifications WHERE order_id IN (${ids.map(() => '?').join(', ')}) ORDER BY order_id`,
          ids,
        );
      const completed = results
        .filter((r) => r.status === 'COMPLETED')
        .map((r) => r.orderId)
        .sort();
      await waitUntil(async () => (await notified()).filter((n) => n.status === 'sent').length >= completed.length, {
        what: 'the confirmed customers to be notified',
      });
      assert.deepEqual(
        await notified(),
        completed.map((order_id) => ({ order_id, status: 'sent' })),
        'confirmed orders only, once each',
      );

      // The relay lost its bookkeeping and publishes everything again: effects must not change.
      const before = await viewDb.all('SELECT * FROM order_view ORDER BY order_id');
      const duplicatesBefore = consumer.status().duplicates;
      if (kind === 'postgres') {
        // PostgreSQL's bookkeeping: the unsent queue and the sent times (outbox/postgres-store.ts).
        await db.transaction(async (tx) => {
          await tx.run('DELETE FROM outbox_sent');
          await tx.run('INSERT INTO outbox_queue (seq, txid) SELECT seq, txid FROM outbox ON CONFLICT (seq) DO NOTHING');
          await tx.run('UPDATE outbox SET next_attempt_at = NULL');
        });
      } else await db.run('UPDATE outbox SET sent_at = NULL, claimed_by = NULL, claimed_until = NULL, next_attempt_at = NULL');
      const everything = Number((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox'))?.n);
      await waitUntil(
        async () => Number((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox_sent'))?.n) === everything,
        { what: 'the relay to publish again' },
      );
      await waitUntil(() => consumer.status().duplicates - duplicatesBefore >= written.length, {
        what: 'the redeliveries to be seen',
        timeoutMs: 60_000,
      });
      assert.deepEqual(await viewDb.all('SELECT * FROM order_view ORDER BY order_id'), before);
      assert.equal((await applied()).length, written.length);
      await waitUntil(() => notifications.status().duplicates >= completed.length, {
        what: 'notifications to see the redelivered confirmations',
      });
      assert.deepEqual(
        await notified(),
        completed.map((order_id) => ({ order_id, status: 'sent' })),
      );
      assert.equal(
        Number((await viewDb.get<{ n: number }>('SELECT COUNT(*) AS n FROM notification_mailbox'))?.n),
        completed.length,
      );

      // The trail `npm start` prints: every event published, applied, and the confirmation notified.
      const trail = await orderEventTrail({ outbox: db, consumers: viewDb }, completed[0] as string);
      assert.ok(trail.every((e) => e.published && (e.inOrderView || !read.has(e.type))));
      assert.deepEqual(
        trail.filter((e) => e.notification).map((e) => `${e.type}:${e.notification}`),
        ['OrderConfirmed:sent'],
      );
      assert.match(
        formatTrail(completed[0] as string, trail),
        /OrderConfirmed\s+outbox #\d+ → .*trapeze\.orders p\d+@\d+ → order view, notification sent/,
      );
      const printed = await settledTrails({ outbox: db, consumers: viewDb }, ids, { readsType: (t) => read.has(t) });
      assert.equal(printed.split('\n').filter((l) => l.startsWith('order ')).length, ids.length);
      assert.doesNotMatch(printed, /waiting in the outbox/);
    });
  });
}
