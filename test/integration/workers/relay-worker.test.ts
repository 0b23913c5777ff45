// Invariant: the relay process serves its platform contract: /healthz and /readyz answer 200 once
// it relays, /metrics exposes the outbox metrics (backlog, oldest unsent age, published, failures),
// an appended event goes out, and stop() shuts it down cleanly.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { appendEvent } from '../../../outbox/append';
import { openDatabase } from '../../../platform/database';
import { readConfig } from '../../../platform/config';
import { startRelayWorker } from '../../../workers/relay';
import { sqliteDatabase } from '../../databases';
import { kafkaBrokers, testTopic } from '../../env';
import { waitUntil } from '../../wait';
import { quietLog } from '../outbox/deliveries';

test('the relay worker relays and serves health, readiness and metrics', async () => {
  const testDb = sqliteDatabase();
  const config = readConfig({ DATABASE_URL: testDb.url, KAFKA_BROKERS: kafkaBrokers().join(','), RELAY_HTTP_PORT: '0' });
  const db = openDatabase(config.databaseUrl);
  const run = randomUUID().slice(0, 8);
  const route = (topic: string) => testTopic(`${topic}.worker-test-${run}`);
  const worker = await startRelayWorker({ config, log: quietLog, db, route });
  try {
    const base = `http://127.0.0.1:${worker.health.port}`;
    await waitUntil(async () => (await fetch(`${base}/readyz`)).status === 200, { what: 'readiness' });
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/nowhere`)).status, 404);

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
    await waitUntil(() => worker.relay.status().published >= 1, { what: 'the event to go out' });

    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      'trapeze_outbox_backlog 0',
      'trapeze_outbox_oldest_unsent_age_seconds 0',
      `trapeze_outbox_published_total{topic="${route('trapeze.orders')}"} 1`,
      'trapeze_outbox_failures_total',
      'process_cpu_seconds_total',
    ]) {
      assert.ok(metrics.includes(name), `metrics lack ${name}`);
    }
  } finally {
    await worker.stop();
    await db.close();
    await testDb.drop();
  }
  assert.equal(worker.relay.status().running, false);
});
