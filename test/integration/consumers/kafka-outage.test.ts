// Invariant: a consumer outlives a Kafka outage: it does not give up while the broker is gone,
// and once the broker is back it applies what is published then, nothing applied twice.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { catalog } from '../../../events/catalog';
import { upcasters } from '../../../events/catalog/upcasters';
import { createEventConsumer } from '../../../consumers/event-consumer';
import { orderViewContract } from '../../../consumers/order-view/contract';
import { orderViewMigrations } from '../../../consumers/order-view/migrations';
import { projectOrderView } from '../../../consumers/order-view/projection';
import { findOrderView } from '../../../consumers/order-view/query';
import { migrate } from '../../../platform/migrations';
import { sqliteDatabase } from '../../databases';
import { startTestBroker } from '../../kafka-broker';
import { waitUntil } from '../../wait';
import { completedSaga, createTopics, publish, quiet } from './harness';

test('the order view resumes after its broker was stopped and started again', async () => {
  const broker = await startTestBroker();
  const store = sqliteDatabase();
  const db = store.open();
  const kafka = new Kafka({
    clientId: 'outage-test',
    brokers: broker.brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
  const route = (t: string) => t;
  const consumer = createEventConsumer({
    name: 'order-view',
    kafka,
    db,
    catalog,
    upcasters,
    contract: orderViewContract,
    apply: projectOrderView('sqlite'),
    route,
    log: quiet,
    groupId: `view-${randomUUID()}`,
  });
  try {
    await migrate(db, orderViewMigrations);
    await createTopics(kafka, route);
    await consumer.start();
    const before = `o-${randomUUID()}`;
    let producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await publish(producer, route, completedSaga(before));
    // Topics arrive in any order: OrderCompleted may land before a payment or shipping event, so
    // the wait is for every event, not for the status alone.
    await waitUntil(async () => (await findOrderView(db, before))?.steps.length === 8, {
      what: 'the first saga to be projected',
    });
    await producer.disconnect();

    await broker.stop();
    assert.equal(consumer.status().running, true, 'the consumer did not give up');
    await broker.start();

    const after = `o-${randomUUID()}`;
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await publish(producer, route, completedSaga(after));
    await producer.disconnect();
    const view = await waitUntil(
      async () => {
        const v = await findOrderView(db, after);
        return v?.steps.length === 8 ? v : undefined;
      },
      { what: 'the saga published after the outage to be projected', timeoutMs: 90_000 },
    );
    assert.equal(view.steps.length, 8);
    assert.equal(view.status, 'COMPLETED');
    assert.equal((await findOrderView(db, before))?.steps.length, 8, 'nothing applied twice');
  } finally {
    await consumer.stop().catch(() => undefined);
    await db.close();
    await store.drop();
    await broker.close();
  }
});
