// (A *.runtime.test.ts: installs the Runtime itself, as the saga worker does; test/setup.cjs leaves it alone.)
// Invariant: one order is one trace, from `POST /orders` through the Temporal client, the saga's
// workflow and activities, the outbox and Kafka, to the consumer's effect; every event on the wire
// carries it as `ce_traceparent`. The saga worker's /metrics counts sagas started and ended by
// status, undos by step, a stuck undo and its age; the SDK's log lines of a saga name its
// workflow, run and order, and never its customer.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { Registry } from 'prom-client';
import { participantMigrations, type Faults } from '../../../activities';
import { restock } from '../../../activities/inventory/ledger';
import { connectClient } from '../../../api/connect';
import { createEventConsumer, type EventConsumer } from '../../../consumers/event-consumer';
import { orderViewContract } from '../../../consumers/order-view/contract';
import { orderViewMigrations } from '../../../consumers/order-view/migrations';
import { projectOrderView } from '../../../consumers/order-view/projection';
import { catalog } from '../../../events/catalog';
import { upcasters } from '../../../events/catalog/upcasters';
import { createRelay, type Relay } from '../../../outbox/relay';
import { openOutboxStore } from '../../../outbox/store';
import type { Database } from '../../../platform/database';
import { bundleWorkflows } from '../../../platform/deployment';
import { serveHealth, type HealthServer } from '../../../platform/health';
import { createLogger } from '../../../platform/log';
import { migrate } from '../../../platform/migrations';
import { setupTracing } from '../../../platform/tracing';
import { startApiServer, type ApiServer } from '../../../workers/api';
import { sagaMetrics } from '../../../workers/saga-metrics';
import { createSagaWorker } from '../../../workers/saga-worker';
import { installSdkLogging } from '../../../workers/sdk-logging';
import { testAuth } from '../api/auth-fixture';
import { isolatedRoute, kafkaClient, quiet } from '../consumers/harness';
import { sqliteDatabase, type TestDatabase } from '../../databases';
import { temporalAddress } from '../../env';
import { waitUntil } from '../../wait';

const spans = new InMemorySpanExporter();
setupTracing({ serviceName: 'trapeze-test', exporter: spans });

// The SDK's lines, as the saga worker writes them: through the project's pino factory, here into memory.
const lines: Array<Record<string, unknown>> = [];
const sdkLog = createLogger(
  'saga-worker',
  'debug',
  new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  }),
);
installSdkLogging(sdkLog, 'debug');

const CUSTOMER_NAME = 'Grace Hopperington';
const CUSTOMER_EMAIL = 'grace.hopperington@example.com';
const SKU = `TRACE-${randomUUID().slice(0, 8)}`;
const anOrder = (orderId: string, methodToken = 'tok_visa') => ({
  orderId,
  customer: { id: `cus-${orderId}`, name: CUSTOMER_NAME, email: CUSTOMER_EMAIL },
  lines: [{ sku: SKU, quantity: 1, unitPrice: { amount: 1250, currency: 'EUR' } }],
  shippingAddress: { name: CUSTOMER_NAME, line1: '7 Compiler Lane', city: 'Arlington', postalCode: '22201', country: 'DE' },
  payment: { methodToken, capture: 'at-dispatch' },
});

const auth = testAuth();
const { route } = isolatedRoute();
const kafka = kafkaClient('observability');
const taskQueue = `observability-${randomUUID()}`;
const registry = new Registry();
// Test seam: while set, this order's stock release fails after it committed (a stuck undo).
let failReleaseOf: string | undefined;
const faults: Faults = {
  afterCommit: (operation, key) => {
    if (operation === 'releaseStock' && failReleaseOf && key.startsWith(`order-${failReleaseOf}/`))
      throw new Error('inventory unavailable (test)');
  },
};
let store: TestDatabase;
let db: Database;
let connection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let client: Client;
let api: ApiServer;
let relay: Relay;
let consumer: EventConsumer;
let metricsServer: HealthServer;

before(async () => {
  store = sqliteDatabase();
  db = store.open();
  await migrate(db, [...participantMigrations, ...orderViewMigrations]);
  await db.transaction((tx) => restock(tx, { [SKU]: 100 }));
  // The worker's own bundle: the tracing and metrics interceptors are in it.
  const workflowBundle = await bundleWorkflows(require.resolve('../../../workflows'));
  connection = await NativeConnection.connect({ address: temporalAddress() });
  worker = await createSagaWorker({ connection, db, taskQueue, workflowBundle, faults, metrics: sagaMetrics(registry) });
  running = worker.run();
  metricsServer = await serveHealth({ port: 0, host: '127.0.0.1', registry });
  client = await connectClient({ address: temporalAddress(), keyring: undefined });
  api = await startApiServer({ client, taskQueue, port: 0, host: '127.0.0.1', log: quiet, ...auth.serverOptions });
  relay = createRelay({ store: openOutboxStore(db), kafka, route, partitions: 1, log: quiet });
  void relay.start();
  consumer = createEventConsumer({
    name: 'order-view',
    kafka,
    db,
    catalog,
    upcasters,
    contract: orderViewContract,
    apply: projectOrderView('sqlite'),
    route,
    log: quiet,
    groupId: `observability-${taskQueue}`,
  });
  await consumer.start();
});

after(async () => {
  failReleaseOf = undefined;
  await consumer?.stop();
  await relay?.stop();
  await api?.close();
  worker?.shutdown();
  await running;
  await metricsServer?.close();
  await connection?.close();
  await client?.connection.close();
  // The run-private topics go with the run.
  const admin = kafka.admin();
  await admin.connect();
  const mine = (await admin.listTopics()).filter((t) => t.startsWith(route('')));
  await admin.deleteTopics({ topics: mine }).catch(() => undefined);
  await admin.disconnect();
  await db?.close();
  await store?.drop();
});

const client_ = () => auth.caller(api.url, 'client');
const operator = () => auth.caller(api.url, 'operator');
const warehouse = () => auth.caller(api.url, 'warehouse');
const status = async (orderId: string) => (await operator()('GET', `/orders/${orderId}`)).body.status;
const hex = (span: ReadableSpan) => span.spanContext().traceId;

test('one trace from POST /orders to the consumer, and ce_traceparent on every event', async () => {
  const orderId = `trace-${randomUUID().slice(0, 8)}`;
  const started = await client_()('POST', '/orders', anOrder(orderId));
  assert.equal(started.status, 201, JSON.stringify(started.body));
  await waitUntil(async () => (await status(orderId)) === 'AWAITING_DISPATCH', {
    what: 'the saga to await dispatch',
    timeoutMs: 120_000,
  });
  assert.equal((await warehouse()('POST', `/orders/${orderId}/dispatch`, { trackingNumber: 'TRK-1' })).status, 200);
  await waitUntil(async () => (await status(orderId)) === 'COMPLETED', { what: 'the saga to complete', timeoutMs: 120_000 });

  const request = spans
    .getFinishedSpans()
    .find((s) => s.name === 'POST /orders' && s.attributes['http.response.status_code'] === 201);
  assert.ok(request, 'the API recorded a server span for POST /orders');
  const traceId = hex(request);
  const consumed = await waitUntil(
    () => {
      const mine = spans.getFinishedSpans().filter((s) => s.attributes['trapeze.order_id'] === orderId);
      return mine.some((s) => s.name === 'order-view process OrderCompleted') ? mine : undefined;
    },
    { what: "the consumer's span of OrderCompleted", timeoutMs: 120_000 },
  );
  for (const span of consumed) assert.equal(hex(span), traceId, `${span.name} continues the request's trace`);
  // The path in between is the same trace: the client's start, the workflow, each activity.
  const inTrace = spans
    .getFinishedSpans()
    .filter((s) => hex(s) === traceId)
    .map((s) => s.name);
  for (const name of [
    'StartWorkflow:orderFulfillment',
    'RunWorkflow:orderFulfillment',
    'RunActivity:submitOrder',
    'RunActivity:completeOrder',
  ])
    assert.ok(inTrace.includes(name), `${name} is in the trace (spans: ${[...new Set(inTrace)].join(', ')})`);

  // An outside reader of the topics sees the trace on every one of the order's events.
  const written = await db.all<{ topic: string }>(`SELECT topic FROM outbox WHERE msg_key = ?`, [orderId]);
  const expected = written.length;
  const reader = kafka.consumer({ groupId: `outside-${randomUUID()}` });
  const seen: Array<{ type: string; traceparent: string | undefined }> = [];
  await reader.connect();
  try {
    await reader.subscribe({ topics: [...new Set(written.map((w) => route(w.topic)))], fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        if (message.key?.toString() !== orderId) return;
        seen.push({ type: String(message.headers?.ce_type), traceparent: message.headers?.ce_traceparent?.toString() });
      },
    });
    await waitUntil(() => seen.length >= expected, { what: `the order's ${expected} events on the topics`, timeoutMs: 60_000 });
  } finally {
    await reader.disconnect();
  }
  assert.ok(expected >= 8, `a completed saga writes its events (${expected})`);
  for (const e of seen)
    assert.match(e.traceparent ?? '(none)', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`), `${e.type} carries the trace`);
});

test("the saga worker's /metrics counts sagas, undos by step and a stuck undo", async () => {
  const scrape = async () => (await fetch(`http://127.0.0.1:${metricsServer.port}/metrics`)).text();
  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };
  const before = await scrape();
  const base = (series: string) => value(before, series) ?? 0;

  const declined = `declined-${randomUUID().slice(0, 8)}`;
  const cancelled = `cancelled-${randomUUID().slice(0, 8)}`;
  assert.equal((await client_()('POST', '/orders', anOrder(declined, 'tok_decline'))).status, 201);
  assert.equal((await client_()('POST', '/orders', anOrder(cancelled))).status, 201);
  await waitUntil(async () => (await status(declined)) === 'REJECTED', { what: 'the declined saga', timeoutMs: 120_000 });
  await waitUntil(async () => (await status(cancelled)) === 'AWAITING_DISPATCH', {
    what: 'the saga to await dispatch',
    timeoutMs: 120_000,
  });
  failReleaseOf = cancelled;
  assert.equal((await operator()('POST', `/orders/${cancelled}/cancel`, { reason: 'changed my mind' })).status, 202);
  const stuck = await waitUntil(
    async () => {
      const text = await scrape();
      return value(text, 'trapeze_saga_undos_stuck{undo="releaseStock"}') === 1 &&
        (value(text, 'trapeze_saga_undo_stuck_oldest_age_seconds') ?? 0) > 0
        ? text
        : undefined;
    },
    { what: 'the stuck release to show', timeoutMs: 60_000 },
  );
  assert.ok((value(stuck, 'trapeze_saga_undo_failures_total{undo="releaseStock"}') ?? 0) >= 1);
  failReleaseOf = undefined;
  await waitUntil(async () => (await status(cancelled)) === 'CANCELLED', {
    what: 'the cancelled saga to finish its undos',
    timeoutMs: 120_000,
  });

  const text = await waitUntil(
    async () => {
      const t = await scrape();
      return value(t, 'trapeze_sagas_ended_total{status="CANCELLED"}') ===
        base('trapeze_sagas_ended_total{status="CANCELLED"}') + 1
        ? t
        : undefined;
    },
    { what: 'the cancellation to be counted', timeoutMs: 30_000 },
  );
  const grew = (series: string) => (value(text, series) ?? 0) - base(series);
  assert.equal(grew('trapeze_sagas_started_total'), 2);
  assert.equal(grew('trapeze_sagas_ended_total{status="REJECTED"}'), 1);
  assert.equal(grew('trapeze_sagas_ended_total{status="CANCELLED"}'), 1);
  assert.equal(grew('trapeze_sagas_ended_total{status="FAILED"}'), 0);
  // Both sagas run every undo (release 1.4): the declined one's void, release and shipment
  // cancellation find nothing to undo (no-ops that still succeed); the cancelled one undoes everything.
  assert.equal(grew('trapeze_saga_compensations_total{undo="cancelOrder",step="submitOrder"}'), 2);
  assert.equal(grew('trapeze_saga_compensations_total{undo="releaseStock",step="reserveStock"}'), 2);
  assert.equal(grew('trapeze_saga_compensations_total{undo="cancelShipment",step="allocateShipment"}'), 2);
  assert.equal(value(text, 'trapeze_saga_undos_stuck{undo="releaseStock"}'), 0);
  assert.equal(value(text, 'trapeze_saga_undo_stuck_oldest_age_seconds'), 0);
  assert.equal(value(text, 'trapeze_workflow_task_failures_total{reason="nondeterminism"}'), 0);
  // The first test's saga completed on this worker too.
  assert.ok((value(text, 'trapeze_sagas_ended_total{status="COMPLETED"}') ?? 0) >= 1);
});

test("the SDK's lines of saga work name the workflow, run and order, and never the customer", async () => {
  const mine = lines.filter((l) => typeof l.workflowId === 'string' && l.workflowId.startsWith('order-'));
  assert.ok(mine.length > 10, `saga work was logged (${mine.length} lines)`);
  for (const line of mine) {
    assert.equal(line.workflowId, `order-${String(line.orderId)}`, `${String(line.msg)} names its order`);
    assert.equal(typeof line.runId, 'string', `${String(line.msg)} names its run`);
  }
  // The saga's own `log` lines (workflow) and the lines of its activities' work (started, completed, failed).
  assert.ok(
    mine.some((l) => l.sdkComponent === 'workflow'),
    'workflow lines',
  );
  assert.ok(
    mine.some((l) => typeof l.activityType === 'string'),
    'activity lines',
  );
  const everything = lines.map((l) => JSON.stringify(l)).join('\n');
  assert.ok(!everything.includes(CUSTOMER_NAME) && !everything.includes(CUSTOMER_EMAIL), 'no line names the customer');
});
