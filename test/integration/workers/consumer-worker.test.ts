// Invariant: a consumer process shows its platform the truth: /healthz while its group member
// runs, /readyz once it has joined and applies events, /metrics with its event counts; SIGTERM's
// stop closes it cleanly.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findOrderView } from '../../../consumers/order-view/query';
import { readConfig } from '../../../platform/config';
import { startOrderViewWorker } from '../../../workers/order-view';
import { kafkaBrokers } from '../../env';
import { waitUntil } from '../../wait';
import { completedSaga, createTopics, isolatedRoute, kafkaClient, publish, quiet } from '../consumers/harness';

test('the order view worker serves health, readiness and metrics, and stops cleanly', async () => {
  const { route } = isolatedRoute();
  const kafka = kafkaClient('worker-test');
  await createTopics(kafka, route);
  const config = readConfig({
    DATABASE_URL: `sqlite:${join(mkdtempSync(join(tmpdir(), 'view-worker-')), 'view.db')}`,
    KAFKA_BROKERS: kafkaBrokers().join(','),
    ORDER_VIEW_HTTP_PORT: '0',
  });
  const worker = await startOrderViewWorker({ config, log: quiet, isolation: { groupId: `view-worker-${randomUUID()}`, route } });
  const url = (path: string) => `http://127.0.0.1:${worker.health.port}${path}`;
  try {
    assert.equal((await fetch(url('/healthz'))).status, 200);
    const orderId = `o-${randomUUID()}`;
    const producer = kafka.producer();
    await producer.connect();
    await publish(producer, route, completedSaga(orderId));
    await producer.disconnect();
    // Topics arrive in any order: wait for all eight events, not for the status alone.
    await waitUntil(async () => (await findOrderView(worker.db, orderId))?.steps.length === 8, {
      what: 'the saga to be projected',
    });
    assert.equal((await findOrderView(worker.db, orderId))?.status, 'COMPLETED');
    assert.equal((await fetch(url('/readyz'))).status, 200);
    const metrics = await (await fetch(url('/metrics'))).text();
    assert.match(metrics, /trapeze_consumer_events_total\{consumer="order-view",outcome="applied"\} 8/);
    // Offsets are committed every half second: the lag drains to zero.
    await waitUntil(
      async () => {
        const text = await (await fetch(url('/metrics'))).text();
        const lags = [...text.matchAll(/^trapeze_consumer_lag_messages\{[^}]*\} (\d+)$/gm)].map((m) => Number(m[1]));
        return lags.length === 4 && lags.every((l) => l === 0);
      },
      { what: 'the consumer lag to drain' },
    );
  } finally {
    await worker.stop();
  }
  await assert.rejects(fetch(url('/healthz')));
});
