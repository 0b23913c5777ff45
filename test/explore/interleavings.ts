import type { Client, WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import type { Worker } from '@temporalio/worker';
import fc from 'fast-check';
import { participantMigrations, type Faults } from '../../activities';
import { restock } from '../../activities/inventory/ledger';
import { createOrderClient } from '../../api/client';
import { workflowIdFor } from '../../domain/ids';
import type { Database } from '../../platform/database';
import { bundleWorkflows } from '../../platform/deployment';
import { migrate } from '../../platform/migrations';
import { createSagaWorker } from '../../workers/saga-worker';
import { resetToPoint } from '../../versioning/reset-points';
import type { SagaResult } from '../../workflows/definitions';
import type { orderFulfillment } from '../../workflows/order-fulfillment';
import { sqliteDatabase, type TestDatabase } from '../databases';
import { temporalAddress, temporalNamespace, testServerPath } from '../env';

/**
 * Explores orders of events instead of the few chosen by hand: fast-check generates, per saga, an
 * order (capture mode, card, stock, address), faults on the participants (a reply lost once or
 * twice, a step down for good) and outside events fired when a given step commits (customer
 * cancellation, operator cancellation, an early dispatch, valid / forged / duplicate webhooks, a
 * restart of the saga worker). The saga runs against the real SQL ledgers; then the invariants are
 * checked across all ledgers and the outbox. Cases run in batches of concurrent sagas (`batch`, 24 or EXPLORE_BATCH), so
 * a worker restart fired by one case lands in the middle of the others' work too.
 */
const FORWARD = ['submitOrder', 'screenOrder', 'authorizePayment', 'reserveStock', 'allocateShipment', 'confirmOrder'] as const;
const COMMITS = [...FORWARD, 'capturePayment', 'recordDispatch', 'completeOrder', 'voidAuthorization', 'releaseStock'] as const;
const ACTIONS = [
  'customer-cancel',
  'operator-cancel',
  'dispatch',
  'webhook-valid',
  'webhook-forged',
  'webhook-duplicate',
  'worker-restart',
] as const;

export const scenario = fc.record({
  capture: fc.constantFrom('at-dispatch' as const, 'at-confirmation' as const),
  token: fc.constantFrom('tok_ok', 'tok_ok', 'tok_decline', 'tok_async'),
  approve: fc.boolean(),
  shortStock: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  undeliverable: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  faults: fc.dictionary(
    fc.constantFrom(...FORWARD),
    fc.constantFrom('lost-once' as const, 'lost-twice' as const, 'down' as const),
    {
      maxKeys: 2,
    },
  ),
  undoFaults: fc.dictionary(
    fc.constantFrom('voidAuthorization', 'releaseStock', 'cancelShipment', 'refundPayment'),
    fc.integer({ min: 1, max: 7 }),
    {
      maxKeys: 1,
    },
  ),
  actions: fc.array(fc.record({ after: fc.constantFrom(...COMMITS), action: fc.constantFrom(...ACTIONS) }), { maxLength: 3 }),
});
export type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** Sagas run side by side in one property case. */
export const BATCH = Number(process.env.EXPLORE_BATCH ?? 24);
export const batch = fc.array(scenario, { minLength: BATCH, maxLength: BATCH });
/** How long a saga may take to settle before it counts as stuck: a step down for good alone takes ~26 s of retries; a loaded machine needs more. */
const SETTLE_MS = Number(process.env.EXPLORE_SETTLE_MS ?? 120_000);

export interface Explorer {
  run(s: Scenario): Promise<{ result: SagaResult; violations: string[] }>;
  /** Saga worker restarts so far. */
  restarts(): number;
  /** Sagas stuck on the SDK's misordered update and repaired by `saga reset --to before-misordered-update`. */
  repairs(): number;
  stop(): Promise<void>;
}

/**
 * `time-skipping` (default) runs on the SDK's test server; `dev` runs on the local dev server of the
 * stack (TEMPORAL_ADDRESS), to tell a saga defect from a test-server quirk.
 */
export async function startExplorer(server: 'time-skipping' | 'dev' = 'time-skipping'): Promise<Explorer> {
  const env =
    server === 'dev'
      ? await TestWorkflowEnvironment.createFromExistingServer({ address: temporalAddress(), namespace: temporalNamespace() })
      : await TestWorkflowEnvironment.createTimeSkipping({
          server: { executable: { type: 'existing-path', path: testServerPath() } },
        });
  if (server === 'time-skipping') {
    const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
    await env.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: { OrderId: keyword, CustomerId: keyword, SagaStep: keyword, SagaStatus: keyword },
    });
  }
  const store: TestDatabase = sqliteDatabase();
  const db: Database = store.open();
  await migrate(db, participantMigrations);
  const workflowBundle = await bundleWorkflows(require.resolve('../../workflows'));
  const taskQueue = `explore-${Date.now().toString(36)}`;
  const orders = createOrderClient(env.client, { taskQueue });

  // The fault plan of the case that owns a key; every commit of a participant passes through here.
  const plans = new Map<string, (operation: string) => void>();
  const faults: Faults = {
    afterCommit: (operation, key) => {
      const orderId = /^order-([^/]+)\//.exec(key)?.[1];
      if (orderId) plans.get(orderId)?.(operation);
    },
  };
  const namespace = server === 'dev' ? temporalNamespace() : 'default';
  let worker: Worker;
  let running: Promise<void>;
  const startWorker = async () => {
    worker = await createSagaWorker({ connection: env.nativeConnection, db, namespace, taskQueue, faults, workflowBundle });
    running = worker.run();
  };
  await startWorker();
  // Fired from a commit hook, so never awaited there: shutdown waits for the activity in that hook.
  let restarting: Promise<void> | undefined;
  let restarts = 0;
  const restart = () =>
    (restarting ??= (async () => {
      restarts += 1;
      worker.shutdown();
      await running;
      await startWorker();
    })().finally(() => {
      restarting = undefined;
    }));
  let counter = 0;
  let repairs = 0;
  return {
    restarts: () => restarts,
    repairs: () => repairs,
    async run(s) {
      const orderId = `x${(++counter).toString(36)}-${Date.now().toString(36)}`;
      const sku = `sku-${orderId}`;
      await db.transaction((tx) => restock(tx, { [sku]: s.shortStock ? 1 : 10 }));
      const handle: WorkflowHandle<typeof orderFulfillment> = env.client.workflow.getHandle(workflowIdFor(orderId));
      const commits = new Map<string, number>();
      const pending: Promise<unknown>[] = [];
      const fire = (action: Scenario['actions'][number]['action']) => {
        const own = `auth-${orderId}`;
        const quietly = (p: Promise<unknown>) => void pending.push(p.catch(() => undefined));
        switch (action) {
          case 'customer-cancel':
            return quietly(orders.cancelOrder(orderId, 'explorer'));
          case 'operator-cancel':
            return quietly(handle.cancel());
          case 'dispatch':
            return quietly(orders.confirmDispatch(orderId, { trackingNumber: `TRK-${orderId}` }));
          case 'webhook-valid':
            return quietly(orders.reportPaymentResult(orderId, { authorizationId: own, approved: s.approve }));
          case 'webhook-forged':
            return quietly(orders.reportPaymentResult(orderId, { authorizationId: 'auth-forged', approved: true }));
          case 'webhook-duplicate':
            quietly(orders.reportPaymentResult(orderId, { authorizationId: own, approved: s.approve }));
            return quietly(orders.reportPaymentResult(orderId, { authorizationId: own, approved: !s.approve }));
          case 'worker-restart':
            return void pending.push(restart());
        }
      };
      plans.set(orderId, (operation) => {
        const n = (commits.get(operation) ?? 0) + 1;
        commits.set(operation, n);
        if (n === 1) for (const a of s.actions) if (a.after === operation) fire(a.action);
        const fault = s.faults[operation as (typeof FORWARD)[number]];
        const undoFails = s.undoFaults[operation] ?? 0;
        // After the commit: the effect exists, only the reply is lost (or the step is "down").
        if (fault === 'down' || (fault === 'lost-once' && n === 1) || (fault === 'lost-twice' && n <= 2) || n <= undoFails) {
          throw new Error(`${operation}: reply lost (explorer fault)`);
        }
      });

      await orders.startOrder({
        orderId,
        customer: { id: 'c-x', name: 'Explorer', email: 'x@example.com' },
        lines: [{ sku, quantity: 2, unitPrice: { amount: 1000, currency: 'EUR' } }],
        shippingAddress: { name: 'X', line1: '1 Road', city: 'Town', postalCode: '1', country: s.undeliverable ? 'AQ' : 'DE' },
        payment: { methodToken: s.token, capture: s.capture },
      });
      // Polled, not awaited: a pending result() lets the test server skip time past every wait
      // faster than a driver can answer, so the clock runs in real time here (SLAs never expire).
      let answeredPayment = false;
      let dispatched = false;
      let nextDispatch = 0;
      let checkedAttempt = 0;
      const deadline = Date.now() + SETTLE_MS;
      for (;;) {
        const described = await handle.describe();
        // Looked at once per failed attempt, not on every poll.
        const attempt = described.raw.pendingWorkflowTask?.attempt ?? 0;
        if (attempt >= 3 && attempt > checkedAttempt) {
          checkedAttempt = attempt;
          if (await misordered(env.client, handle.workflowId)) {
            repairs += 1;
            // The reset sends the dispatch again itself; the driver re-sends too, as a warehouse retrying would.
            dispatched = false;
            continue;
          }
        }
        if (described.status.name !== 'RUNNING') {
          await Promise.all(pending);
          plans.delete(orderId);
          const result = await handle.result();
          return { result, violations: await invariants(db, orderId, result) };
        }
        await new Promise((r) => setTimeout(r, 25));
        let queryError: unknown;
        const p = (await handle.query('saga').catch((err: unknown) => {
          queryError = err;
          return undefined;
        })) as { status?: string; currentStep?: string } | undefined;
        if (Date.now() > deadline)
          throw new Error(`${orderId} did not settle within ${SETTLE_MS / 1000} s: ${await stuck(handle, p, queryError)}`);
        // A wait past its SLA is ESCALATED and still waits for the same answer.
        const escalated = p?.status === 'ESCALATED';
        const status = escalated
          ? p.currentStep === 'awaitPaymentResult'
            ? 'AWAITING_PAYMENT'
            : 'AWAITING_DISPATCH'
          : p?.status;
        if (status === 'AWAITING_PAYMENT' && !answeredPayment) {
          answeredPayment = true;
          // The saga may end (a cancellation) between the query and the answer.
          await orders
            .reportPaymentResult(orderId, { authorizationId: `auth-${orderId}`, approved: s.approve })
            .catch(() => undefined);
        }
        // Like a warehouse, retried until accepted: a query can show the wait a moment before the
        // saga's workflow task that entered it completes, and the dispatch is refused until then.
        if (status === 'AWAITING_DISPATCH' && !dispatched && Date.now() >= nextDispatch) {
          nextDispatch = Date.now() + 500;
          dispatched = await orders.confirmDispatch(orderId, { trackingNumber: `TRK-${orderId}` }).then(
            (answer) => answer.accepted,
            () => false,
          );
        }
      }
    },
    async stop() {
      await restarting;
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await db.close();
      await store.drop();
      await env.teardown();
    },
  };
}

/**
 * A saga whose workflow task keeps failing (or timing out) on the SDK's misordered update (an
 * update accepted after other commands of its task, which replay reorders: see
 * versioning/reset-points.ts) is repaired as an operator would, and the case goes on to be judged.
 * The history decides, not the failure: core names whichever command it met first, and a stranded
 * task can also time out. A saga stuck any other way is left to fail.
 */
async function misordered(client: Client, workflowId: string): Promise<boolean> {
  return (
    (await resetToPoint(client, workflowId, 'before-misordered-update', 'explorer: repair a misordered update')) !== undefined
  );
}

/** What a saga that did not settle was doing: its progress, pending activities and last events. */
async function stuck(handle: WorkflowHandle, progress: unknown, queryError: unknown): Promise<string> {
  const d = await handle.describe();
  const history = await handle.fetchHistory();
  const last = (history.events ?? [])
    .slice(-8)
    .map((e) => `${String(e.eventId)}:${temporal.api.enums.v1.EventType[e.eventType ?? 0]}`);
  const activities = (d.raw.pendingActivities ?? []).map(
    (a) =>
      `${a.activityType?.name ?? '?'} attempt ${a.attempt} ${temporal.api.enums.v1.PendingActivityState[a.state ?? 0]} ${a.lastFailure?.message ?? ''}`,
  );
  await handle.terminate('explorer: did not settle').catch(() => undefined);
  return JSON.stringify({
    status: d.status.name,
    progress,
    queryError: queryError instanceof Error ? queryError.message : queryError,
    pendingActivities: activities,
    lastEvents: last,
  });
}

/** What must hold across every ledger once a saga has ended, whatever happened on the way. */
async function invariants(db: Database, orderId: string, result: SagaResult): Promise<string[]> {
  const v: string[] = [];
  const completed = result.status === 'COMPLETED';
  const q = <T>(sql: string) => db.transaction((tx) => tx.all<T>(sql, [orderId]));
  const auths = await q<{ status: string }>('SELECT status FROM payment_authorizations WHERE order_id = ?');
  const captures = await q<{ capture_id: string }>('SELECT capture_id FROM payment_captures WHERE order_id = ?');
  const refunds = await q<{ capture_id: string | null }>(
    'SELECT capture_id FROM payment_refunds WHERE order_id = ? AND refund_id IS NOT NULL',
  );
  const reservations = await q<{ status: string }>('SELECT status FROM stock_reservations WHERE order_id = ?');
  const shipments = await q<{ status: string }>('SELECT status FROM shipments WHERE order_id = ?');
  const events = await q<{ type: string; id: string }>('SELECT type, id FROM outbox WHERE msg_key = ? ORDER BY seq');
  const dispatched = shipments.some((s) => s.status === 'dispatched');

  // Money: nothing held for a closed order; a completed order is captured once.
  for (const a of auths) {
    if (['pending', 'authorized'].includes(a.status))
      v.push(`authorization still held (${a.status}) for a ${result.status} order`);
    if (completed && a.status !== 'captured') v.push(`completed order's authorization is ${a.status}, not captured`);
  }
  if (captures.length > 1) v.push(`${captures.length} captures`);
  if (!completed && !dispatched) {
    for (const c of captures)
      if (!refunds.some((r) => r.capture_id === c.capture_id))
        v.push(`capture ${c.capture_id} of a ${result.status} order not refunded`);
    if (reservations.some((r) => r.status === 'reserved')) v.push(`stock still reserved for a ${result.status} order`);
    if (shipments.some((s) => s.status === 'allocated')) v.push(`shipment still allocated for a ${result.status} order`);
  }
  if (dispatched) {
    if (!(completed || (result.status === 'FAILED' && /after dispatch/.test(result.reason ?? '')))) {
      v.push(`dispatched order ended ${result.status}`);
    }
    if (captures.length !== 1) v.push('dispatched order not captured');
  }
  // One event per state change: no type twice (escalations aside), each effect with its event.
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
  for (const [type, n] of counts) if (n > 1 && type !== 'OrderEscalated') v.push(`${type} published ${n} times`);
  if ((counts.get('PaymentCaptured') ?? 0) !== captures.length) v.push('captures and PaymentCaptured events differ');
  if ((counts.get('PaymentRefunded') ?? 0) !== refunds.length) v.push('refunds and PaymentRefunded events differ');
  return v;
}
