// Invariant: several relays on one PostgreSQL outbox share the work without losing an event or
// reordering an order's events, while appends keep coming from concurrent writers and one relay
// leaves half way; duplicates at most as at-least-once allows (each event id's first arrival is
// in order and every id arrives).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import type { Database } from '../../../platform/database';
import { migrate, outboxMigrations } from '../../../platform/migrations';
import { createRelay, type Relay } from '../../../outbox/relay';
import { openOutboxStore } from '../../../outbox/store';
import { postgresDatabase, type TestDatabase } from '../../databases';
import { kafkaBrokers, testTopic } from '../../env';
import { waitUntil } from '../../wait';
import { appendOrders, assertDeliveredInOrder, collectDeliveries, quietLog, type Deliveries } from './deliveries';

const run = randomUUID().slice(0, 8);
const route = (topic: string) => testTopic(`${topic}.two-relays-${run}`);
let testDb: TestDatabase;
const databases: Database[] = [];
const relays: Relay[] = [];
let deliveries: Deliveries;

before(async () => {
  testDb = await postgresDatabase();
  const db = testDb.open();
  databases.push(db);
  await migrate(db, outboxMigrations);
});
after(async () => {
  for (const relay of relays) await relay.stop();
  await deliveries?.stop();
  for (const db of databases) await db.close();
  await testDb.drop();
});

/** Each relay gets its own connection pool, as a separate process would. */
function startRelay(name: string): { relay: Relay; loop: Promise<void> } {
  const db = testDb.open();
  databases.push(db);
  const kafka = new Kafka({ clientId: name, brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const relay = createRelay({
    store: openOutboxStore(db),
    kafka,
    log: quietLog,
    relayId: name,
    route,
    batchSize: 10,
    partitions: 3,
  });
  relays.push(relay);
  return { relay, loop: relay.start() };
}

test('two relays deliver every event once in effect, each order in order, while one leaves half way', async () => {
  const [a, b] = [startRelay('relay-a'), startRelay('relay-b')];
  await waitUntil(() => a.relay.status().running && b.relay.status().running, { what: 'both relays to start' });
  deliveries = await collectDeliveries(kafkaBrokers(), [route('trapeze.orders')]);

  // Four writers with their own pools, each taking 100 orders through four steps, interleaved.
  const expected = new Map<string, string[]>();
  const writers = Array.from({ length: 4 }, () => {
    const db = testDb.open();
    databases.push(db);
    const orders = Array.from({ length: 100 }, () => `order-${randomUUID()}`);
    const mine = new Map<string, string[]>();
    return appendOrders(db, orders, ['OrderSubmitted', 'OrderConfirmed', 'OrderDispatched', 'OrderCompleted'], mine, {
      orderByOrder: true,
    }).then(() => {
      for (const [k, ids] of mine) expected.set(k, ids);
    });
  });
  await waitUntil(() => a.relay.status().published > 100 && b.relay.status().published > 100, { what: 'both relays to publish' });
  await a.relay.stop();
  await Promise.all(writers);

  const store = openOutboxStore(databases[0]!);
  await waitUntil(async () => (await store.backlog()) === 0, { timeoutMs: 60_000, what: 'the outbox to drain' });
  await waitUntil(() => new Set([...deliveries.byKey.values()].flat()).size >= 1_600, {
    timeoutMs: 60_000,
    what: '1,600 distinct events',
  });
  assertDeliveredInOrder(deliveries, expected);
  const published = a.relay.status().published + b.relay.status().published;
  assert.ok(published >= 1_600, `published ${published}`);
  assert.equal(deliveries.count(), published, 'a delivery for each publication, no more');
  await b.relay.stop();
  await Promise.all([a.loop, b.loop]);
});
