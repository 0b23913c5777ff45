// Invariant: an upcaster that throws (a bug, not a refusal) parks that one message in the
// dead-letter topic with its reason and the consumer goes on; it never crash-loops on it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { catalog } from '../../../events/catalog';
import { readDeadLetters } from '../../../consumers/dead-letter';
import { createEventConsumer } from '../../../consumers/event-consumer';
import { orderViewContract } from '../../../consumers/order-view/contract';
import { orderViewMigrations } from '../../../consumers/order-view/migrations';
import { projectOrderView } from '../../../consumers/order-view/projection';
import { findOrderView } from '../../../consumers/order-view/query';
import { migrate } from '../../../platform/migrations';
import { sqliteDatabase } from '../../databases';
import { waitUntil } from '../../wait';
import { anEvent, createTopics, isolatedRoute, kafkaClient, publish, quiet } from './harness';

test('a throwing upcaster dead-letters its message with the reason and the partition moves on', async () => {
  const kafka = kafkaClient('upcaster-failure-test');
  const { route } = isolatedRoute();
  await createTopics(kafka, route);
  const store = sqliteDatabase();
  const db = store.open();
  await migrate(db, orderViewMigrations);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer = createEventConsumer({
    name: 'order-view',
    kafka,
    db,
    catalog,
    // A buggy v1 → v2 upcaster: it dereferences a field v1 never had.
    upcasters: {
      ShipmentDispatched: {
        1: (data) => ({ ...data, dispatchedAt: (data.handover as { at: string }).at }),
      },
    },
    contract: orderViewContract,
    apply: projectOrderView('sqlite'),
    route,
    log: quiet,
    groupId: `view-${randomUUID()}`,
  });
  try {
    await consumer.start();
    const orderId = `o-${randomUUID()}`;
    // Same key, same partition: the v2 dispatch after the poison one is applied only if the consumer goes on.
    await publish(producer, route, [
      anEvent('ShipmentDispatched', orderId, { version: 1 }),
      anEvent('ShipmentDispatched', orderId, { version: 2, data: { trackingNumber: 'TRK-AFTER' } }),
    ]);
    await waitUntil(() => consumer.status().deadLettered === 1 && consumer.status().applied === 1, {
      what: 'the v1 event to be parked and the v2 one applied',
    });
    const letters = (await readDeadLetters(kafka, route('trapeze.shipping'))).filter(
      (l) => l.message.key?.toString() === orderId,
    );
    assert.equal(letters.length, 1);
    assert.equal(letters[0]?.reason, 'upcaster-failed');
    assert.match(letters[0]?.detail ?? '', /ShipmentDispatched v1 → v2: TypeError/);
    assert.equal((await findOrderView(db, orderId))?.shipping.trackingNumber, 'TRK-AFTER');
    assert.equal(consumer.status().running, true);
  } finally {
    await consumer.stop();
    await producer.disconnect();
    await db.close();
    await store.drop();
  }
});
