// Invariant: the order view applies each event exactly once in effect and keeps going past
// poison: an unreadable message lands in `<topic>.dlq` with its reason and its original bytes,
// older versions are upcast, and re-reading the topics from the beginning changes nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Consumer, KafkaMessage, Producer } from 'kafkajs';
import { catalog } from '../../../events/catalog';
import { toKafkaMessage } from '../../../events/kafka-binding';
import { upcasters } from '../../../events/catalog/upcasters';
import { DLQ_HEADERS, deadLetterTopic } from '../../../consumers/dead-letter';
import { createEventConsumer, type EventConsumer } from '../../../consumers/event-consumer';
import { orderViewContract } from '../../../consumers/order-view/contract';
import { orderViewMigrations } from '../../../consumers/order-view/migrations';
import { projectOrderView } from '../../../consumers/order-view/projection';
import { findOrderView } from '../../../consumers/order-view/query';
import { migrate } from '../../../platform/migrations';
import type { Database } from '../../../platform/database';
import { bothStores, type TestDatabase } from '../../databases';
import { waitUntil } from '../../wait';
import { anEvent, completedSaga, createTopics, isolatedRoute, kafkaClient, publish, publishRaw, quiet } from './harness';

for (const { kind, create } of bothStores) {
  describe(`order view on ${kind}`, () => {
    const kafka = kafkaClient('order-view-test');
    const { route } = isolatedRoute();
    let testDb: TestDatabase;
    let db: Database;
    const ordersTopic = route('trapeze.orders');
    let producer: Producer;
    let consumer: EventConsumer;
    let dlqReader: Consumer;
    const deadLetters: KafkaMessage[] = [];

    const viewConsumer = (groupId: string) =>
      createEventConsumer({
        name: 'order-view',
        kafka,
        db,
        catalog,
        upcasters,
        contract: orderViewContract,
        apply: projectOrderView(kind),
        route,
        log: quiet,
        groupId,
      });

    before(async () => {
      testDb = await create();
      db = testDb.open();
      await migrate(db, orderViewMigrations);
      await createTopics(kafka, route);
      producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      consumer = viewConsumer(`order-view-${randomUUID()}`);
      await consumer.start();
      dlqReader = kafka.consumer({ groupId: `dlq-reader-${randomUUID()}` });
      await dlqReader.connect();
      await dlqReader.subscribe({ topic: deadLetterTopic(ordersTopic), fromBeginning: true });
      await dlqReader.run({ eachMessage: async ({ message }) => void deadLetters.push(message) });
    });

    after(async () => {
      await dlqReader?.disconnect();
      await consumer?.stop();
      await producer?.disconnect();
      await db.close();
      await testDb.drop();
    });

    test('a completed saga projects to one row with its steps, amounts and times', async () => {
      const orderId = `o-${randomUUID()}`;
      const saga = completedSaga(orderId);
      await publish(producer, route, saga);
      const view = await waitUntil(
        async () => {
          const v = await findOrderView(db, orderId);
          return v?.steps.length === saga.length ? v : undefined;
        },
        { what: 'all eight steps to be projected' },
      );
      assert.equal(view.status, 'COMPLETED');
      assert.equal(view.customerId, 'cus-1042');
      assert.deepEqual(view.amounts, { currency: 'EUR', total: 3100, authorized: 3100, voided: 0, captured: 3100, refunded: 0 });
      assert.deepEqual(view.shipping, { carrier: 'DHL', trackingNumber: 'TRK-00012345' });
      assert.equal(view.itemCount, 3);
      assert.deepEqual(view.steps.map((s) => s.type).sort(), saga.map((e) => e.type).sort());
    });

    test('an older version is upcast: a v1 dispatch gets its dispatch time from the envelope', async () => {
      const orderId = `o-${randomUUID()}`;
      const time = new Date('2026-11-22T07:45:00.000Z');
      await publish(producer, route, [
        anEvent('OrderSubmitted', orderId),
        anEvent('ShipmentDispatched', orderId, { version: 1, time }),
      ]);
      const view = await waitUntil(
        async () => {
          const v = await findOrderView(db, orderId);
          return v?.times.dispatched ? v : undefined;
        },
        { what: 'the dispatch to be projected' },
      );
      assert.equal(view.times.dispatched, time.toISOString());
      assert.equal(view.steps.find((s) => s.type === 'ShipmentDispatched')?.writtenVersion, 1);
    });

    test('poison messages go to the dead-letter topic with reason and original bytes; the consumer goes on', async () => {
      const orderId = `o-${randomUUID()}`;
      const valid = anEvent('OrderSubmitted', orderId);
      const good = toKafkaMessage(orderId, valid);
      const poison = [
        { reason: 'undecodable', message: { key: orderId, value: Buffer.from('not a cloud event at all') } },
        {
          reason: 'undecodable',
          message: {
            key: orderId,
            value: Buffer.from('{"orderId": '),
            headers: { ...good.headers, ce_id: `bad-json-${orderId}` },
          },
        },
        {
          reason: 'invalid-envelope',
          message: {
            key: orderId,
            value: Buffer.from(String(good.value)),
            headers: { ...good.headers, ce_time: 'yesterday', ce_id: `bad-time-${orderId}` },
          },
        },
        {
          reason: 'invalid-data',
          message: {
            key: orderId,
            value: Buffer.from(JSON.stringify({ orderId, total: 'lots' })),
            headers: { ...good.headers, ce_id: `bad-data-${orderId}` },
          },
        },
        {
          reason: 'unsupported-version',
          message: {
            key: orderId,
            value: Buffer.from(String(good.value)),
            headers: { ...good.headers, ce_schemaversion: '9', ce_id: `v9-${orderId}` },
          },
        },
      ];
      for (const p of poison) await publishRaw(producer, ordersTopic, p.message);
      // The order's real events, behind the poison in the same partition (same key).
      await publish(producer, route, [valid, anEvent('OrderConfirmed', orderId)]);

      const view = await waitUntil(
        async () => {
          const v = await findOrderView(db, orderId);
          return v?.status === 'CONFIRMED' ? v : undefined;
        },
        { what: 'the events behind the poison to be applied' },
      );
      assert.equal(view.steps.length, 2);
      const parked = await waitUntil(
        () => {
          const mine = deadLetters.filter((m) => m.key?.toString() === orderId);
          return mine.length === poison.length ? mine : undefined;
        },
        { what: 'every poison message in the dead-letter topic' },
      );
      for (const [i, p] of poison.entries()) {
        const m = parked[i] as KafkaMessage;
        assert.equal(m.headers?.[DLQ_HEADERS.reason]?.toString(), p.reason, `message ${i}`);
        assert.ok(m.headers?.[DLQ_HEADERS.detail]?.toString().length, 'a human-readable detail');
        assert.equal(m.headers?.[DLQ_HEADERS.topic]?.toString(), ordersTopic);
        assert.equal(m.headers?.[DLQ_HEADERS.consumer]?.toString(), 'order-view');
        assert.ok(m.value?.equals(p.message.value), 'the original bytes');
        for (const [name, value] of Object.entries(p.message.headers ?? {}))
          assert.equal(m.headers?.[name]?.toString(), String(value), `original header ${name}`);
      }
    });

    test('duplicates have single effects, and replaying the topics from the beginning changes nothing', async () => {
      const orderId = `o-${randomUUID()}`;
      const saga = completedSaga(orderId);
      await publish(producer, route, saga);
      await publish(producer, route, saga.slice(1, 4)); // a relay that crashed before marking them sent
      // Topics arrive in any order: wait for every event, not for the status alone.
      await waitUntil(async () => (await findOrderView(db, orderId))?.steps.length === saga.length, {
        what: 'the saga to be projected',
      });
      await waitUntil(() => consumer.status().duplicates >= 3, { what: 'the three redeliveries to be seen' });
      const before = await db.all('SELECT * FROM order_view ORDER BY order_id');
      const steps = await db.all('SELECT * FROM order_view_steps ORDER BY seq');
      assert.equal((await findOrderView(db, orderId))?.steps.length, saga.length);

      // A new group member reads everything again (as after an offset reset) into the same store.
      const replay = viewConsumer(`order-view-replay-${randomUUID()}`);
      await replay.start();
      try {
        const admin = kafka.admin();
        await admin.connect();
        const total = (
          await Promise.all(
            ['orders', 'payments', 'inventory', 'shipping'].map((c) => admin.fetchTopicOffsets(route(`trapeze.${c}`))),
          )
        )
          .flat()
          .reduce((n, p) => n + Number(p.high), 0);
        await admin.disconnect();
        await waitUntil(
          () => {
            const s = replay.status();
            return s.applied + s.duplicates + s.ignored + s.deadLettered >= total;
          },
          { what: `the replay to read all ${total} messages`, timeoutMs: 60_000 },
        );
        assert.equal(replay.status().applied, 0);
        assert.equal(replay.status().deadLettered, 0, 'poison already parked is not parked again');
      } finally {
        await replay.stop();
      }
      assert.deepEqual(await db.all('SELECT * FROM order_view ORDER BY order_id'), before);
      assert.deepEqual(await db.all('SELECT * FROM order_view_steps ORDER BY seq'), steps);
    });
  });
}
