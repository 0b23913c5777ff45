// Invariant: a wait never hangs silently. When the payment webhook or the warehouse's dispatch
// does not come within its SLA, the saga publishes OrderEscalated, shows ESCALATED (ledger and
// SagaStatus), keeps waiting, and still completes when the answer finally arrives.
// Runs on the time-skipping test server: two days pass in a moment.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { participantMigrations } from '../../../activities';
import { restock } from '../../../activities/inventory/ledger';
import { createOrderClient, type OrderClient } from '../../../api/client';
import type { Database } from '../../../platform/database';
import { migrate } from '../../../platform/migrations';
import { createSagaWorker } from '../../../workers/saga-worker';
import { SLA_SECONDS } from '../../../workflows/definitions';
import { sqliteDatabase, type TestDatabase } from '../../databases';
import { waitUntil } from '../../wait';
import { testServerPath } from '../../env';
import { anOrder, bundle, eventsOf, uniqueId } from './harness';
import type { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';

let env: TestWorkflowEnvironment;
let store: TestDatabase;
let db: Database;
let worker: Worker;
let running: Promise<void>;
let orders: OrderClient;

before(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath() } },
  });
  // The saga keeps its search attributes current; the test server, like any server, must know them.
  const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: { OrderId: keyword, CustomerId: keyword, SagaStep: keyword, SagaStatus: keyword },
  });
  store = sqliteDatabase();
  db = store.open();
  await migrate(db, participantMigrations);
  await db.transaction((tx) => restock(tx, { beans: 10, mug: 10 }));
  const taskQueue = uniqueId('sla');
  worker = await createSagaWorker({ connection: env.nativeConnection, db, taskQueue, workflowBundle: await bundle() });
  running = worker.run();
  orders = createOrderClient(env.client, { taskQueue });
});

after(async () => {
  worker.shutdown();
  await running;
  await db.close();
  await store.drop();
  await env.teardown();
});

test('late payment and late dispatch escalate, then the saga completes', async () => {
  const orderId = uniqueId('sla');
  await orders.startOrder(anOrder({ orderId, payment: { methodToken: 'tok_async' } }));

  await env.sleep((SLA_SECONDS.paymentResult + 60) * 1000);
  let ledger = await orders.getOrder(orderId);
  assert.equal(ledger.status, 'ESCALATED');
  assert.equal(ledger.currentStep, 'awaitPaymentResult');
  assert.deepEqual(
    ledger.escalations.map(({ waitingFor, slaSeconds }) => ({ waitingFor, slaSeconds })),
    [{ waitingFor: 'payment', slaSeconds: SLA_SECONDS.paymentResult }],
  );
  // The alert goes out on its own, beside the wait (it never fails the wait): wait for its event.
  await waitUntil(async () => (await eventsOf(db, orderId)).includes('OrderEscalated'), { what: 'the OrderEscalated event' });
  assert.deepEqual(await eventsOf(db, orderId), [
    'OrderSubmitted',
    'FraudScreened',
    'PaymentAuthorizationPending',
    'OrderEscalated',
  ]);

  await orders.reportPaymentResult(orderId, { authorizationId: `auth-${orderId}`, approved: true });
  // Wait on the fact, not on time: the webhook's steps run in real time on the worker.
  ledger = await waitUntil(
    async () => {
      const l = await orders.getOrder(orderId);
      return l.status === 'AWAITING_DISPATCH' ? l : undefined;
    },
    { what: 'the saga to wait for dispatch' },
  );
  assert.equal(ledger.status, 'AWAITING_DISPATCH');

  await env.sleep((SLA_SECONDS.dispatch + 60) * 1000);
  ledger = await orders.getOrder(orderId);
  assert.equal(ledger.status, 'ESCALATED');
  assert.deepEqual(
    ledger.escalations.map((e) => e.waitingFor),
    ['payment', 'dispatch'],
  );

  await waitUntil(async () => (await eventsOf(db, orderId)).filter((e) => e === 'OrderEscalated').length === 2, {
    what: 'the second OrderEscalated event',
  });
  assert.equal((await orders.confirmDispatch(orderId, { trackingNumber: 'TRK-LATE' })).accepted, true);
  const result = await orders.orderOutcome(orderId);
  assert.equal(result.status, 'COMPLETED');
  const events = await eventsOf(db, orderId);
  assert.equal(events.filter((e) => e === 'OrderEscalated').length, 2);
  assert.equal(events.at(-1), 'OrderCompleted');
});
