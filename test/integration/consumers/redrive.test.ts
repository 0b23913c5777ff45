// Invariant: a message parked because its reader was too old is not lost: once the reader is
// upgraded, redriving the dead letter applies it exactly once, and redriving again changes nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { catalog } from '../../../events/catalog';
import type { EventCatalog } from '../../../events/definition';
import { upcasters } from '../../../events/catalog/upcasters';
import { readDeadLetters, redriveDeadLetters } from '../../../consumers/dead-letter';
import { createEventConsumer } from '../../../consumers/event-consumer';
import { orderViewContract } from '../../../consumers/order-view/contract';
import { orderViewMigrations } from '../../../consumers/order-view/migrations';
import { projectOrderView } from '../../../consumers/order-view/projection';
import { findOrderView } from '../../../consumers/order-view/query';
import { migrate } from '../../../platform/migrations';
import { sqliteDatabase } from '../../databases';
import { waitUntil } from '../../wait';
import { anEvent, createTopics, isolatedRoute, kafkaClient, publish, quiet } from './harness';

test('a dead letter from an outdated reader is applied once after the upgrade and a redrive', async () => {
  const kafka = kafkaClient('redrive-test');
  const { route } = isolatedRoute();
  await createTopics(kafka, route);
  const store = sqliteDatabase();
  const db = store.open();
  await migrate(db, orderViewMigrations);
  const groupId = `view-${randomUUID()}`;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // The reader as it was before ShipmentDispatched v2 existed.
  const outdated: EventCatalog = {
    ...catalog,
    ShipmentDispatched: { ...catalog.ShipmentDispatched, versions: { 1: catalog.ShipmentDispatched.versions[1] } },
  };
  const reader = (c: EventCatalog) =>
    createEventConsumer({
      name: 'order-view',
      kafka,
      db,
      catalog: c,
      upcasters: {},
      contract: { ...orderViewContract, reads: orderViewContract.reads.map((r) => ({ ...r, version: 1 })) },
      apply: projectOrderView('sqlite'),
      route,
      log: quiet,
      groupId,
    });
  try {
    const orderId = `o-${randomUUID()}`;
    const old = reader(outdated);
    await old.start();
    await publish(producer, route, [anEvent('OrderSubmitted', orderId), anEvent('ShipmentDispatched', orderId, { version: 2 })]);
    await waitUntil(() => old.status().deadLettered === 1 && old.status().applied === 1, { what: 'the v2 event to be parked' });
    await old.stop();

    const shipping = route('trapeze.shipping');
    const letters = (await readDeadLetters(kafka, shipping)).filter((l) => l.message.key?.toString() === orderId);
    assert.deepEqual(
      letters.map((l) => [l.reason, l.consumer]),
      [['unsupported-version', 'order-view']],
    );

    const upgraded = createEventConsumer({
      name: 'order-view',
      kafka,
      db,
      catalog,
      upcasters,
      contract: orderViewContract,
      apply: projectOrderView('sqlite'),
      route,
      log: quiet,
      groupId,
    });
    await upgraded.start();
    try {
      assert.equal(await redriveDeadLetters(producer, letters), 1);
      const view = await waitUntil(
        async () => {
          const v = await findOrderView(db, orderId);
          return v?.status === 'DISPATCHED' ? v : undefined;
        },
        { what: 'the redriven event to be applied' },
      );
      assert.equal(view.times.dispatched, '2026-11-21T09:30:00.000Z');
      await redriveDeadLetters(producer, letters);
      await waitUntil(() => upgraded.status().duplicates === 1, { what: 'the second redrive to be seen as a duplicate' });
      assert.equal((await findOrderView(db, orderId))?.steps.length, 2);
    } finally {
      await upgraded.stop();
    }
  } finally {
    await producer.disconnect();
    await db.close();
    await store.drop();
  }
});
