// Invariant: a relay never waits on Kafka longer than its send timeout, topic creation and
// connecting included (a broker that accepts connections and never answers, here a silent socket,
// neither keeps the relay from starting nor holds a batch past the timeout), a lease that could
// lapse before a batch is acknowledged is refused at start, and its idempotent producer keeps the
// unlimited client retries idempotence needs (kafkajs warns at start when they are limited).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { appendEvent } from '../../../outbox/append';
import { migrate, outboxMigrations } from '../../../platform/migrations';
import { readConfig } from '../../../platform/config';
import { createRelay } from '../../../outbox/relay';
import { openOutboxStore } from '../../../outbox/store';
import { startRelayWorker } from '../../../workers/relay';
import { sqliteDatabase } from '../../databases';
import { kafkaBrokers, testTopic } from '../../env';
import { waitUntil } from '../../wait';
import { quietLog } from './deliveries';

test('topic creation and connecting count against the send timeout', async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as { port: number };
  const testDb = sqliteDatabase();
  const db = testDb.open();
  await migrate(db, outboxMigrations);
  const store = openOutboxStore(db);
  const kafka = new Kafka({ clientId: 'deadline-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
  const relay = createRelay({ store, kafka, log: quietLog, sendTimeoutMs: 1_000, leaseMs: 6_000, backoff: { maxMs: 200 } });
  const loop = relay.start();
  try {
    await waitUntil(() => relay.status().running, { timeoutMs: 3_000, what: 'the relay to start despite the silent broker' });
    const orderId = `order-${randomUUID()}`;
    await db.transaction((tx) =>
      appendEvent(tx, {
        context: 'orders',
        type: 'OrderSubmitted',
        schemaVersion: 1,
        orderId,
        causationId: `order-${orderId}/submit`,
        correlationId: `order-${orderId}`,
        data: { orderId },
      }),
    );
    relay.wake();
    const began = Date.now();
    await waitUntil(() => relay.status().failures >= 1, { timeoutMs: 3_000, what: 'the publish to time out' });
    assert.ok(Date.now() - began < 3_000);
    assert.match(relay.status().lastError ?? '', /publish not done within 1000 ms/);
    assert.equal(relay.status().kafkaHealthy, false);
    assert.equal(await store.backlog(), 1, 'the row waits in the outbox');
  } finally {
    await relay.stop();
    await loop;
    for (const s of sockets) s.destroy();
    silent.close();
    await db.close();
    await testDb.drop();
  }
});

test('a lease shorter than the send timeout plus the time to mark is refused at start', async () => {
  const testDb = sqliteDatabase();
  const db = testDb.open();
  try {
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
    assert.throws(
      () => createRelay({ store: openOutboxStore(db), kafka, log: quietLog, leaseMs: 30_000, sendTimeoutMs: 30_000 }),
      /RELAY_LEASE_MS \(30000\) must be at least the send timeout/,
    );
    const config = readConfig({ DATABASE_URL: testDb.url, RELAY_LEASE_MS: '10000', RELAY_HTTP_PORT: '0' });
    await assert.rejects(startRelayWorker({ config, log: quietLog, db }), /RELAY_LEASE_MS/);
  } finally {
    await db.close();
    await testDb.drop();
  }
});

test('the idempotent producer starts without limiting its retries', async () => {
  const testDb = sqliteDatabase();
  const db = testDb.open();
  await migrate(db, outboxMigrations);
  const store = openOutboxStore(db);
  const warnings: string[] = [];
  const kafka = new Kafka({
    clientId: 'retries-test',
    brokers: kafkaBrokers(),
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => void warnings.push(entry.log.message),
  });
  const run = randomUUID().slice(0, 8);
  const relay = createRelay({ store, kafka, log: quietLog, route: (t) => testTopic(`${t}.retries-${run}`), partitions: 1 });
  const loop = relay.start();
  try {
    const orderId = `order-${randomUUID()}`;
    await db.transaction((tx) =>
      appendEvent(tx, {
        context: 'orders',
        type: 'OrderSubmitted',
        schemaVersion: 1,
        orderId,
        causationId: `order-${orderId}/submit`,
        correlationId: `order-${orderId}`,
        data: { orderId },
      }),
    );
    await waitUntil(() => relay.status().published >= 1, { what: 'the event to go out (the producer exists)' });
    assert.deepEqual(
      warnings.filter((w) => /retries/i.test(w)),
      [],
    );
  } finally {
    await relay.stop();
    await loop;
    await db.close();
    await testDb.drop();
  }
});
