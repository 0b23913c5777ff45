// Invariant: reconciliation finds every combination the saga should make impossible on the next
// run after it appears in the ledgers (confirmed without stock, captured without a shipment,
// authorized but cancelled and not voided, refunded without a capture, stock reserved for a closed
// order, a saga past its SLA without an escalation, an outbox row unsent past its budget, an order
// view that disagrees, a parcel dispatched and never paid for), leaves consistent orders alone,
// repairs the safe ones by the participant's own undo exactly once (also when two runs overlap, on
// SQLite and PostgreSQL), sends the rest to the operator queue, and runs by itself on its Schedule.
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, type Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { restock } from '../../../activities/inventory/ledger';
import { reconciliationRoutes } from '../../../api/reconciliation';
import { workflowIdFor } from '../../../domain/ids';
import type { Database } from '../../../platform/database';
import { findingById, type RunReport } from '../../../reconciliation/findings';
import { ensureReconciliationSchedule, runReconciliation } from '../../../reconciliation/schedule';
import { createReconciliationWorker, migrateForReconciliation } from '../../../workers/reconciliation';
import { bothStores, sqliteDatabase, type TestDatabase } from '../../databases';
import { temporalAddress, temporalNamespace } from '../../env';
import { waitUntil } from '../../wait';
import { anOrder, reaches, startHarness, uniqueId } from '../workflows/harness';
import { countEvents, findingEvents, seed } from './seeds';

let native: NativeConnection;
let client: Client;
let workflowBundle: { code: string };
before(async () => {
  native = await NativeConnection.connect({ address: temporalAddress() });
  client = new Client({ connection: await Connection.connect({ address: temporalAddress() }), namespace: temporalNamespace() });
  workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../../workflows/reconciliation'),
    logger: {
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: console.error,
      log: () => undefined,
    },
  });
});
after(async () => {
  await client.connection.close();
  await native.close();
});

interface Reconciler {
  db: Database;
  taskQueue: string;
  run(rules?: string[]): Promise<RunReport>;
  stop(): Promise<void>;
}

async function startReconciler(store: TestDatabase, { keepDatabase = false } = {}): Promise<Reconciler> {
  const db = store.open();
  await migrateForReconciliation(db);
  const taskQueue = uniqueId('reconcile-test');
  const worker: Worker = await createReconciliationWorker({
    namespace: temporalNamespace(),
    connection: native,
    client,
    db,
    taskQueue,
    workflowBundle,
    settings: { outboxLagBudgetSeconds: 300, viewSettleSeconds: 5, slaGraceSeconds: 60 },
  });
  const running = worker.run();
  return {
    db,
    taskQueue,
    run: (rules) => runReconciliation(client, { taskQueue, trigger: 'test', ...(rules ? { rules } : {}) }),
    async stop() {
      worker.shutdown();
      await running;
      await db.close();
      if (!keepDatabase) await store.drop();
    },
  };
}

const stateOf = async (db: Database, id: string) => (await findingById(db, id))?.state;

/** A completed order whose ledgers agree with each other; `viewStatus` is what the order view says. */
async function completedOrder(db: Database, orderId: string, viewStatus: string) {
  const s = seed(db);
  await s.order(orderId, 'COMPLETED');
  await s.authorization(orderId, 'captured');
  await s.capture(orderId);
  await s.reservation(orderId, 'reserved', `sku-${orderId}`);
  await s.shipment(orderId, 'dispatched');
  await s.outboxRow(orderId, 'PaymentAuthorized', 700, {
    topic: 'trapeze.payments',
    data: { amount: { amount: 3000, currency: 'EUR' } },
  });
  await s.outboxRow(orderId, 'OrderCompleted', 600);
  await s.view(orderId, viewStatus, { authorized: 3000, captured: 3000 });
}

/** Cancelled while its authorization was still pending (async provider): voided, never authorized. */
async function cancelledWhilePending(db: Database, orderId: string) {
  const s = seed(db);
  await s.order(orderId, 'CANCELLED');
  await s.authorization(orderId, 'voided');
  await s.voided(orderId);
  await s.outboxRow(orderId, 'PaymentAuthorizationPending', 700, { topic: 'trapeze.payments' });
  await s.outboxRow(orderId, 'OrderCancelled', 600);
  await s.view(orderId, 'CANCELLED', { voided: 3000 });
}

for (const store of bothStores) {
  test(`each impossible combination seeded in the ledgers is found on the next run; safe ones are repaired, the rest queue for an operator (${store.kind})`, async () => {
    const r = await startReconciler(await store.create());
    try {
      const clean = await r.run();
      assert.deepEqual([clean.found, clean.repaired], [[], []], 'an empty ledger has nothing to find');

      const id = (label: string) => uniqueId(`rc-${label}`);
      const o = {
        noStock: id('nostock'),
        noShipment: id('noship'),
        notVoided: id('notvoided'),
        refundOnly: id('refund'),
        heldStock: id('held'),
        lagging: id('lag'),
        badView: id('view'),
        fine: id('fine'),
        finePending: id('fine-pending'),
        notCaptured: id('notcaptured'),
      };
      const s = seed(r.db);
      await s.order(o.noStock, 'CONFIRMED');
      await s.authorization(o.noStock, 'authorized');
      await s.reservation(o.noStock, 'released', `sku-${o.noStock}`);
      await s.shipment(o.noStock, 'allocated');

      await s.order(o.noShipment, 'CONFIRMED');
      await s.authorization(o.noShipment, 'captured');
      await s.capture(o.noShipment);
      await s.reservation(o.noShipment, 'reserved', `sku-${o.noShipment}`);
      await s.shipment(o.noShipment, 'cancelled');

      await s.order(o.notVoided, 'CANCELLED');
      await s.authorization(o.notVoided, 'authorized');

      await s.order(o.refundOnly, 'CANCELLED');
      await s.authorization(o.refundOnly, 'refunded');
      await s.refund(o.refundOnly, 'cap-that-never-was');

      await s.order(o.heldStock, 'REJECTED');
      await s.reservation(o.heldStock, 'reserved', `sku-${o.heldStock}`);

      await s.order(o.lagging, 'SUBMITTED');
      await s.outboxRow(o.lagging, 'OrderSubmitted', 900, { unsent: true, topic: `trapeze.lag-${o.lagging}` });

      await s.order(o.notCaptured, 'CONFIRMED');
      await s.authorization(o.notCaptured, 'authorized');
      await s.reservation(o.notCaptured, 'reserved', `sku-${o.notCaptured}`);
      await s.shipment(o.notCaptured, 'dispatched');

      await completedOrder(r.db, o.badView, 'CONFIRMED');
      await completedOrder(r.db, o.fine, 'COMPLETED');
      await cancelledWhilePending(r.db, o.finePending);

      const report = await r.run();
      const expected = [
        `confirmed-without-stock:${o.noStock}`,
        `captured-without-shipment:${o.noShipment}`,
        `authorized-cancelled-not-voided:${o.notVoided}`,
        `refunded-without-capture:${o.refundOnly}`,
        `stock-reserved-closed-order:${o.heldStock}`,
        `outbox-lag:trapeze.lag-${o.lagging}`,
        `order-view-disagrees:${o.badView}`,
        `dispatched-not-captured:${o.notCaptured}`,
      ];
      assert.deepEqual(
        [...report.found].sort(),
        [...expected].sort(),
        'exactly the seeded combinations, nothing about the consistent orders',
      );
      assert.deepEqual(
        [...report.repaired].sort(),
        [`authorized-cancelled-not-voided:${o.notVoided}`, `stock-reserved-closed-order:${o.heldStock}`].sort(),
      );

      // The safe ones: undone by the participant, once, with its event.
      assert.equal(
        (await r.db.get<{ status: string }>('SELECT status FROM payment_authorizations WHERE order_id = ?', [o.notVoided]))
          ?.status,
        'voided',
      );
      assert.equal(await countEvents(r.db, o.notVoided, 'PaymentVoided'), 1);
      assert.equal(
        Number(
          (await r.db.get<{ reserved: number }>('SELECT reserved FROM stock_levels WHERE sku = ?', [`sku-${o.heldStock}`]))
            ?.reserved,
        ),
        0,
      );
      assert.equal(await countEvents(r.db, o.heldStock, 'StockReleased'), 1);
      assert.deepEqual(await findingEvents(r.db, `authorized-cancelled-not-voided:${o.notVoided}`), ['found', 'repaired']);
      // The rest: open in the operator queue, announced once.
      for (const f of expected.filter((e) => !report.repaired.includes(e))) {
        assert.equal(await stateOf(r.db, f), 'open', f);
        assert.deepEqual(await findingEvents(r.db, f), ['found'], f);
      }

      const again = await r.run();
      assert.deepEqual([again.found, again.repaired], [[], []], 'a second run finds nothing new and repairs nothing twice');
      assert.equal(await countEvents(r.db, o.notVoided, 'PaymentVoided'), 1);
      assert.equal(await stateOf(r.db, `authorized-cancelled-not-voided:${o.notVoided}`), 'repaired');

      // The operator queue through the API routes: listed, acknowledged, resolved; still there, it reopens.
      const routes = reconciliationRoutes({ db: r.db, client, taskQueue: r.taskQueue });
      const route = (method: string, path: string) => {
        const found = routes.find((x) => x.method === method && x.path === path);
        assert.ok(found, `${method} ${path}`);
        return found;
      };
      const queue = await route('GET', '/reconciliation/findings').handle({
        params: {},
        query: new URLSearchParams(),
        body: undefined,
      });
      const listed = (queue.body as { findings: Array<{ id: string; handling: string }> }).findings;
      assert.deepEqual(listed.map((f) => f.id).sort(), expected.filter((e) => !report.repaired.includes(e)).sort());
      const noStock = `confirmed-without-stock:${o.noStock}`;
      const ack = await route('POST', '/reconciliation/findings/:id/ack').handle({
        params: { id: noStock },
        query: new URLSearchParams(),
        body: { by: 'ops' },
      });
      assert.equal(ack.status, 200);
      assert.equal(await stateOf(r.db, noStock), 'acknowledged');
      const resolve = route('POST', '/reconciliation/findings/:id/resolve');
      assert.equal(
        (await resolve.handle({ params: { id: noStock }, query: new URLSearchParams(), body: { by: 'ops' } })).status,
        400,
      );
      const resolved = await resolve.handle({
        params: { id: noStock },
        query: new URLSearchParams(),
        body: { by: 'ops', resolution: 'restocked by hand' },
      });
      assert.equal(resolved.status, 200);
      assert.equal(
        (await resolve.handle({ params: { id: 'nope' }, query: new URLSearchParams(), body: { by: 'ops', resolution: 'x' } }))
          .status,
        404,
      );
      const reopened = await r.run();
      assert.deepEqual(reopened.found, [noStock], 'resolved but still in the ledgers: found again');
      assert.equal((await findingById(r.db, noStock))?.occurrence, 2);
      assert.deepEqual(await findingEvents(r.db, noStock), ['found', 'resolved', 'found']);
    } finally {
      await r.stop();
    }
  });
}

for (const store of bothStores) {
  test(`two overlapping runs repair a safe finding exactly once (${store.kind})`, async () => {
    const r = await startReconciler(await store.create());
    try {
      const notVoided = uniqueId('rc-overlap-auth');
      const heldStock = uniqueId('rc-overlap-stock');
      const s = seed(r.db);
      await s.order(notVoided, 'FAILED');
      await s.authorization(notVoided, 'authorized');
      await s.order(heldStock, 'CANCELLED');
      await s.reservation(heldStock, 'reserved', `sku-${heldStock}`, 3);
      const rules = ['authorized-cancelled-not-voided', 'stock-reserved-closed-order'];

      const reports = await Promise.all([r.run(rules), r.run(rules)]);
      const repaired = reports.flatMap((x) => x.repaired).sort();
      assert.deepEqual(
        repaired,
        [`authorized-cancelled-not-voided:${notVoided}`, `stock-reserved-closed-order:${heldStock}`].sort(),
        'each recorded repaired by one run only',
      );
      assert.equal(await countEvents(r.db, notVoided, 'PaymentVoided'), 1);
      assert.equal(await countEvents(r.db, heldStock, 'StockReleased'), 1);
      assert.deepEqual(
        await r.db
          .get<{ on_hand: number; reserved: number }>('SELECT on_hand, reserved FROM stock_levels WHERE sku = ?', [
            `sku-${heldStock}`,
          ])
          .then((x) => [Number(x?.on_hand), Number(x?.reserved)]),
        [10, 0],
        'the reservation was given back once',
      );
      for (const f of repaired) assert.deepEqual(await findingEvents(r.db, f), ['found', 'repaired'], f);
      const voids = await r.db.all<{ idempotency_key: string }>('SELECT idempotency_key FROM payment_voids WHERE order_id = ?', [
        notVoided,
      ]);
      assert.deepEqual(
        voids.map((v) => v.idempotency_key),
        [`${workflowIdFor(notVoided)}/reconcile-voidAuthorization-1`],
        'one void, under a key in the saga’s key space',
      );
    } finally {
      await r.stop();
    }
  });
}

test('a saga waiting past its SLA without an escalation is escalated under its own key and still finishes', async () => {
  const store = sqliteDatabase();
  const h = await startHarness({ store });
  const r = await startReconciler(store, { keepDatabase: true });
  try {
    const orderId = uniqueId('rc-sla');
    const sku = `sku-${orderId}`;
    await h.db.transaction((tx) => restock(tx, { [sku]: 5 }));
    await h.orders.startOrder(anOrder({ orderId, lines: [{ sku, quantity: 1, unitPrice: { amount: 1000, currency: 'EUR' } }] }));
    await reaches(h, orderId, 'AWAITING_DISPATCH');
    const early = await r.run(['saga-past-sla']);
    assert.deepEqual(early.found, [], 'within its SLA: nothing to find');

    // Three days ago, as far as the orders ledger's outbox can tell; the saga's own timer has not fired.
    await r.db.run("UPDATE outbox SET created_at = created_at - ? WHERE msg_key = ? AND type = 'OrderConfirmed'", [
      3 * 86_400_000,
      orderId,
    ]);
    const report = await r.run(['saga-past-sla']);
    const finding = `saga-past-sla:${orderId}`;
    assert.deepEqual([report.found, report.repaired], [[finding], [finding]]);
    const escalated = await r.db.all<{ causation: string }>(
      "SELECT envelope AS causation FROM outbox WHERE msg_key = ? AND type = 'OrderEscalated'",
      [orderId],
    );
    assert.equal(escalated.length, 1);
    assert.equal(
      (JSON.parse(escalated[0]?.causation ?? '{}') as { causationid: string }).causationid,
      `${workflowIdFor(orderId)}/escalate-dispatch`,
    );
    const again = await r.run(['saga-past-sla']);
    assert.deepEqual([again.found, again.repaired], [[], []]);

    await h.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-RC' });
    assert.equal((await h.orders.orderOutcome(orderId)).status, 'COMPLETED');
  } finally {
    await r.stop();
    await h.stop();
  }
});

test('the Schedule runs reconciliation by itself', async () => {
  const r = await startReconciler(sqliteDatabase());
  const scheduleId = uniqueId('reconcile-schedule-test');
  try {
    assert.equal(
      await ensureReconciliationSchedule(client, { intervalSeconds: 2, taskQueue: r.taskQueue, scheduleId }),
      'created',
    );
    assert.equal(
      await ensureReconciliationSchedule(client, { intervalSeconds: 1, taskQueue: r.taskQueue, scheduleId }),
      'updated',
    );
    await waitUntil(
      async () =>
        (
          await r.db.get<{ n: number }>(
            "SELECT COUNT(*) AS n FROM reconciliation_runs WHERE run_trigger = 'schedule' AND finished_at IS NOT NULL",
          )
        )?.n,
      { what: 'a scheduled run to finish', timeoutMs: 60_000 },
    );
  } finally {
    await client.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
    await r.stop();
  }
});
