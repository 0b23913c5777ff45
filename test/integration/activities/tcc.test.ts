// Invariant: every participant keeps the three TCC rules on both stores (SQLite and PostgreSQL):
// an undo whose step never took effect leaves a tombstone under the step's key and changes nothing
// else; a step that arrives after its undo (a late attempt, a zombie) refuses with the
// non-retryable StepAlreadyUndone and changes nothing; a repeat answers as the first time; and no
// state change overwrites a concurrent one (on PostgreSQL, where two transactions really interleave).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createParticipants, participantMigrations, type Participants } from '../../../activities';
import { restock } from '../../../activities/inventory/ledger';
import { StepAlreadyUndone } from '../../../domain/saga';
import type { Database } from '../../../platform/database';
import { migrate } from '../../../platform/migrations';
import { bothStores, postgresDatabase, type TestDatabase } from '../../databases';
import { waitUntil } from '../../wait';
import { authorizationOf, countRows, eventsOf, stockOf, uniqueId } from '../workflows/harness';

const refOf = (orderId: string, step: string) => ({ orderId, workflowId: `order-${orderId}`, key: `order-${orderId}/${step}` });
const keyOf = (orderId: string, step: string) => `order-${orderId}/${step}`;
const eur = (amount: number) => ({ amount, currency: 'EUR' });
const undone = { type: StepAlreadyUndone, nonRetryable: true };
const recipient = { name: 'N', address: { line1: 'L', city: 'C', postalCode: 'P', country: 'FR' } };

async function tombstones(db: Database, table: string, orderId: string): Promise<string[]> {
  const rows = await db.all<{ forward_key: string }>(`SELECT forward_key FROM ${table} WHERE order_id = ? ORDER BY forward_key`, [
    orderId,
  ]);
  return rows.map((r) => r.forward_key);
}

async function orderStatus(db: Database, orderId: string): Promise<string | undefined> {
  return (await db.get<{ status: string }>('SELECT status FROM orders WHERE order_id = ?', [orderId]))?.status;
}

async function shipmentStatus(db: Database, orderId: string): Promise<string | undefined> {
  return (await db.get<{ status: string }>('SELECT status FROM shipments WHERE order_id = ?', [orderId]))?.status;
}

function submission(orderId: string) {
  return {
    ...refOf(orderId, 'submitOrder'),
    customerId: 'c-1',
    lines: [{ sku: 'beans', quantity: 1, unitPrice: eur(4200) }],
    total: eur(4200),
  };
}
const confirmation = (orderId: string) => ({
  ...refOf(orderId, 'confirmOrder'),
  customerId: 'c-1',
  customer: { name: 'Ada', email: 'ada@example.com' },
  total: eur(4200),
});

for (const store of bothStores) {
  describe(`TCC rules on ${store.kind}`, () => {
    let testDb: TestDatabase;
    let db: Database;
    let p: Participants;
    before(async () => {
      testDb = await store.create();
      db = testDb.open();
      await migrate(db, participantMigrations);
      p = createParticipants(db);
    });
    after(async () => {
      await db.close();
      await testDb.drop();
    });

    test('a refund that runs before a late capture buries it: nothing is captured and the void releases the held money', async () => {
      // Capture at confirmation; the operator compensates while capturePayment is in flight.
      const orderId = uniqueId('late-capture');
      await p.orders.submitOrder(submission(orderId));
      const authorize = { ...refOf(orderId, 'authorizePayment'), amount: eur(4200), methodToken: 'tok_visa' };
      await p.payments.authorizePayment(authorize);
      await p.orders.confirmOrder(confirmation(orderId));
      const capture = { ...refOf(orderId, 'capturePayment'), authorizeKey: authorize.key };

      const refund = await p.payments.refundPayment({ ...refOf(orderId, 'refundPayment'), captureKey: capture.key });
      assert.deepEqual(refund, { refundId: null, captureId: null, amount: null }, 'nothing was captured yet');
      await assert.rejects(() => p.payments.capturePayment(capture), undone, 'the late capture refuses');
      const voided = await p.payments.voidAuthorization({ ...refOf(orderId, 'voidAuthorization'), authorizeKey: authorize.key });
      assert.deepEqual(voided, { authorizationId: `auth-${orderId}`, amount: 4200 });
      await p.orders.cancelOrder({ ...refOf(orderId, 'cancelOrder'), outcome: 'CANCELLED', reason: 'operator' });

      assert.equal((await authorizationOf(db, orderId))?.status, 'voided');
      assert.equal(await countRows(db, 'payment_captures', orderId), 0, 'no money was charged');
      assert.deepEqual(await tombstones(db, 'payment_tombstones', orderId), [capture.key]);
      assert.deepEqual(
        await eventsOf(db, orderId),
        ['OrderSubmitted', 'PaymentAuthorized', 'OrderConfirmed', 'PaymentVoided', 'OrderCancelled'],
        'one event per state change, none for the refused capture',
      );
    });

    test('an undo whose step never took effect buries the step key, changes nothing else, and repeats its first answer', async () => {
      const orderId = uniqueId('empty-undo');
      const undos = {
        void: () =>
          p.payments.voidAuthorization({
            ...refOf(orderId, 'voidAuthorization'),
            authorizeKey: keyOf(orderId, 'authorizePayment'),
          }),
        refund: () =>
          p.payments.refundPayment({ ...refOf(orderId, 'refundPayment'), captureKey: keyOf(orderId, 'capturePayment') }),
        release: () =>
          p.inventory.releaseStock({ ...refOf(orderId, 'releaseStock'), reserveKey: keyOf(orderId, 'reserveStock') }),
        cancelShipment: () =>
          p.shipping.cancelShipment({ ...refOf(orderId, 'cancelShipment'), allocateKey: keyOf(orderId, 'allocateShipment') }),
        cancelOrder: () => p.orders.cancelOrder({ ...refOf(orderId, 'cancelOrder'), outcome: 'FAILED', reason: 'x' }),
      };
      for (const [name, undo] of Object.entries(undos)) {
        const first = await undo();
        assert.deepEqual(await undo(), first, `${name} repeats its first answer`);
      }
      assert.deepEqual(await tombstones(db, 'payment_tombstones', orderId), [
        keyOf(orderId, 'authorizePayment'),
        keyOf(orderId, 'capturePayment'),
      ]);
      assert.deepEqual(await tombstones(db, 'stock_tombstones', orderId), [keyOf(orderId, 'reserveStock')]);
      assert.deepEqual(await tombstones(db, 'shipment_tombstones', orderId), [keyOf(orderId, 'allocateShipment')]);
      assert.deepEqual(await tombstones(db, 'order_tombstones', orderId), [keyOf(orderId, 'submitOrder')]);
      assert.deepEqual(await eventsOf(db, orderId), [], 'an empty undo publishes nothing');
    });

    test('a step that arrives after its empty undo refuses with StepAlreadyUndone, changes nothing, and refuses again on retry', async () => {
      const orderId = uniqueId('no-suspension');
      const sku = `sku-${orderId}`;
      await db.transaction((tx) => restock(tx, { [sku]: 5 }));
      await p.orders.cancelOrder({ ...refOf(orderId, 'cancelOrder'), outcome: 'CANCELLED', reason: 'x' });
      await p.payments.voidAuthorization({
        ...refOf(orderId, 'voidAuthorization'),
        authorizeKey: keyOf(orderId, 'authorizePayment'),
      });
      await p.inventory.releaseStock({ ...refOf(orderId, 'releaseStock'), reserveKey: keyOf(orderId, 'reserveStock') });
      await p.shipping.cancelShipment({ ...refOf(orderId, 'cancelShipment'), allocateKey: keyOf(orderId, 'allocateShipment') });

      const late = {
        submitOrder: () => p.orders.submitOrder(submission(orderId)),
        authorizePayment: () =>
          p.payments.authorizePayment({ ...refOf(orderId, 'authorizePayment'), amount: eur(4200), methodToken: 'tok_visa' }),
        reserveStock: () => p.inventory.reserveStock({ ...refOf(orderId, 'reserveStock'), lines: [{ sku, quantity: 2 }] }),
        allocateShipment: () => p.shipping.allocateShipment({ ...refOf(orderId, 'allocateShipment'), recipient }),
        capturePayment: () =>
          p.payments.capturePayment({ ...refOf(orderId, 'capturePayment'), authorizeKey: keyOf(orderId, 'authorizePayment') }),
        confirmOrder: () => p.orders.confirmOrder(confirmation(orderId)),
        recordDispatch: () =>
          p.shipping.recordDispatch({
            ...refOf(orderId, 'awaitDispatch'),
            allocateKey: keyOf(orderId, 'allocateShipment'),
            trackingNumber: 'T1',
          }),
      };
      for (const [name, step] of Object.entries(late)) {
        await assert.rejects(step, undone, `${name} refuses`);
        await assert.rejects(step, undone, `${name} refuses again`);
      }
      assert.equal(await countRows(db, 'orders', orderId), 0);
      assert.equal(await countRows(db, 'payment_authorizations', orderId), 0);
      assert.equal(await countRows(db, 'stock_reservations', orderId), 0);
      assert.equal(await countRows(db, 'shipments', orderId), 0);
      assert.deepEqual(await stockOf(db, sku), { onHand: 5, reserved: 0 });
      assert.deepEqual(await eventsOf(db, orderId), []);
    });

    test('a step that builds on an undone step refuses with StepAlreadyUndone and changes nothing', async () => {
      // A payment result after the void of its pending authorization.
      const pending = uniqueId('late-result');
      const authorize = { ...refOf(pending, 'authorizePayment'), amount: eur(700), methodToken: 'tok_async' };
      const auth = await p.payments.authorizePayment(authorize);
      await p.payments.voidAuthorization({ ...refOf(pending, 'voidAuthorization'), authorizeKey: authorize.key });
      const result = { ...refOf(pending, 'awaitPaymentResult'), authorizationId: auth.authorizationId, approved: true };
      await assert.rejects(() => p.payments.recordPaymentResult(result), undone);
      await assert.rejects(() => p.payments.recordPaymentResult(result), undone);
      assert.equal((await authorizationOf(db, pending))?.status, 'voided');
      assert.equal(await countRows(db, 'payment_captures', pending), 0);
      assert.deepEqual(await eventsOf(db, pending), ['PaymentAuthorizationPending', 'PaymentVoided']);

      // A capture after the void of its authorization.
      const held = uniqueId('void-then-capture');
      const a2 = { ...refOf(held, 'authorizePayment'), amount: eur(700), methodToken: 'tok_visa' };
      await p.payments.authorizePayment(a2);
      await p.payments.voidAuthorization({ ...refOf(held, 'voidAuthorization'), authorizeKey: a2.key });
      await assert.rejects(() => p.payments.capturePayment({ ...refOf(held, 'capturePayment'), authorizeKey: a2.key }), undone);
      assert.equal((await authorizationOf(db, held))?.status, 'voided');
      assert.deepEqual(await eventsOf(db, held), ['PaymentAuthorized', 'PaymentVoided']);

      // A dispatch after the allocation was cancelled.
      const shipped = uniqueId('cancel-then-dispatch');
      const allocate = { ...refOf(shipped, 'allocateShipment'), recipient };
      await p.shipping.allocateShipment(allocate);
      await p.shipping.cancelShipment({ ...refOf(shipped, 'cancelShipment'), allocateKey: allocate.key });
      await assert.rejects(
        () => p.shipping.recordDispatch({ ...refOf(shipped, 'awaitDispatch'), allocateKey: allocate.key, trackingNumber: 'T9' }),
        undone,
      );
      assert.equal(await shipmentStatus(db, shipped), 'cancelled');
      assert.deepEqual(await eventsOf(db, shipped), ['ShipmentAllocated', 'ShipmentCancelled']);

      // A confirmation, and a completion, after the order was cancelled.
      const ended = uniqueId('cancel-then-confirm');
      await p.orders.submitOrder(submission(ended));
      await p.orders.cancelOrder({ ...refOf(ended, 'cancelOrder'), outcome: 'CANCELLED', reason: 'customer' });
      await assert.rejects(() => p.orders.confirmOrder(confirmation(ended)), undone);
      await assert.rejects(
        () => p.orders.completeOrder({ ...refOf(ended, 'completeOrder'), total: eur(4200), trackingNumber: 'T1' }),
        undone,
      );
      assert.equal(await orderStatus(db, ended), 'CANCELLED');
      assert.deepEqual(await eventsOf(db, ended), ['OrderSubmitted', 'OrderCancelled']);
    });
  });
}

/**
 * A database whose transactions stop at the first statement matching `at`, before or after it
 * runs, until `open()`: the way to hold one transaction open while another one runs.
 */
function gated(db: Database, at: RegExp, when: 'before' | 'after') {
  let reached!: () => void;
  let open!: () => void;
  const atGate = new Promise<void>((resolve) => (reached = resolve));
  const gate = new Promise<void>((resolve) => (open = resolve));
  const stop = async (sql: string) => {
    if (!at.test(sql)) return;
    reached();
    await gate;
  };
  const wrapped: Database = {
    dialect: db.dialect,
    all: (sql, params) => db.all(sql, params),
    get: (sql, params) => db.get(sql, params),
    run: (sql, params) => db.run(sql, params),
    close: () => db.close(),
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({
          ...tx,
          all: (sql, params) => tx.all(sql, params),
          get: (sql, params) => tx.get(sql, params),
          run: async (sql, params) => {
            if (when === 'before') await stop(sql);
            const result = await tx.run(sql, params);
            if (when === 'after') await stop(sql);
            return result;
          },
        }),
      ),
  };
  return { db: wrapped, atGate, open };
}

// On SQLite every write transaction is BEGIN IMMEDIATE on one connection: two never interleave,
// so these races exist on PostgreSQL only, where each transaction has its own connection.
describe('TCC races on postgres', () => {
  let testDb: TestDatabase;
  let db: Database;
  let p: Participants;
  before(async () => {
    testDb = await postgresDatabase();
    db = testDb.open();
    await migrate(db, participantMigrations);
    p = createParticipants(db);
  });
  after(async () => {
    await db.close();
    await testDb.drop();
  });

  /** True once some transaction on this database waits for a lock (a row waits as a transaction id, with no database). */
  const someoneWaits = async () =>
    Number(
      (
        await db.get<{ n: number }>(
          `SELECT COUNT(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE NOT l.granted AND a.datname = current_database()`,
        )
      )?.n ?? 0,
    ) > 0;

  /** Starts `second` while `first` is held at its gate, lets `first` go once `second` waits (or is done). */
  async function race<A, B>(gate: ReturnType<typeof gated>, first: () => Promise<A>, second: () => Promise<B>) {
    const a = first().then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    await gate.atGate;
    let settled = false;
    const b = second().then(
      (value) => ((settled = true), { ok: true as const, value }),
      (error: unknown) => ((settled = true), { ok: false as const, error }),
    );
    await waitUntil(async () => settled || (await someoneWaits()), { timeoutMs: 10_000, what: 'the second transaction to wait' });
    gate.open();
    return { first: await a, second: await b };
  }

  test('a payment result that loses the race to the void refuses instead of reopening the authorization', async () => {
    const orderId = uniqueId('void-vs-result');
    const authorize = { ...refOf(orderId, 'authorizePayment'), amount: eur(900), methodToken: 'tok_async' };
    const auth = await p.payments.authorizePayment(authorize);
    // The webhook's transaction has read `pending` and is about to write when the void commits.
    const gate = gated(db, /^UPDATE payment_authorizations/, 'before');
    const late = createParticipants(gate.db);
    const { first, second } = await race(
      gate,
      () =>
        late.payments.recordPaymentResult({
          ...refOf(orderId, 'awaitPaymentResult'),
          authorizationId: auth.authorizationId,
          approved: true,
        }),
      () => p.payments.voidAuthorization({ ...refOf(orderId, 'voidAuthorization'), authorizeKey: authorize.key }),
    );
    assert.ok(second.ok, 'the void went through');
    assert.equal(first.ok, false);
    assert.match(String((first as { error: unknown }).error), /StepAlreadyUndone|already undone/);
    assert.equal((await authorizationOf(db, orderId))?.status, 'voided', 'nothing reopened the voided authorization');
    assert.deepEqual(await eventsOf(db, orderId), ['PaymentAuthorizationPending', 'PaymentVoided']);
  });

  test('a capture that waits on a void in progress refuses once the void commits, never overwriting it', async () => {
    const orderId = uniqueId('void-vs-capture');
    const authorize = { ...refOf(orderId, 'authorizePayment'), amount: eur(900), methodToken: 'tok_visa' };
    await p.payments.authorizePayment(authorize);
    // The void has written `voided` and is still open (its row lock held) when the capture arrives.
    const gate = gated(db, /^UPDATE payment_authorizations/, 'after');
    const voiding = createParticipants(gate.db);
    const { first, second } = await race(
      gate,
      () => voiding.payments.voidAuthorization({ ...refOf(orderId, 'voidAuthorization'), authorizeKey: authorize.key }),
      () => p.payments.capturePayment({ ...refOf(orderId, 'capturePayment'), authorizeKey: authorize.key }),
    );
    assert.ok(first.ok, 'the void went through');
    assert.equal(second.ok, false, 'the capture refused');
    assert.equal((second as { error: { type?: string } }).error.type, StepAlreadyUndone);
    assert.equal((await authorizationOf(db, orderId))?.status, 'voided');
    assert.equal(await countRows(db, 'payment_captures', orderId), 0);
    assert.deepEqual(await eventsOf(db, orderId), ['PaymentAuthorized', 'PaymentVoided']);
  });

  test('a late capture that races the refund burying it refuses', async () => {
    const orderId = uniqueId('refund-vs-capture');
    const authorize = { ...refOf(orderId, 'authorizePayment'), amount: eur(900), methodToken: 'tok_visa' };
    await p.payments.authorizePayment(authorize);
    const captureKey = keyOf(orderId, 'capturePayment');
    // The refund found no capture and is still open when the zombie capture starts.
    const gate = gated(db, /^INSERT INTO payment_refunds/, 'after');
    const refunding = createParticipants(gate.db);
    const { first, second } = await race(
      gate,
      () => refunding.payments.refundPayment({ ...refOf(orderId, 'refundPayment'), captureKey }),
      () => p.payments.capturePayment({ ...refOf(orderId, 'capturePayment'), authorizeKey: authorize.key }),
    );
    assert.ok(first.ok);
    assert.equal(second.ok, false, 'the capture refused');
    assert.equal((await authorizationOf(db, orderId))?.status, 'authorized', 'still held: the void releases it');
    assert.equal(await countRows(db, 'payment_captures', orderId), 0);
    assert.deepEqual(await eventsOf(db, orderId), ['PaymentAuthorized']);
  });

  test('a release that races a reservation in progress waits for it and gives the stock back', async () => {
    const orderId = uniqueId('release-vs-reserve');
    const sku = `sku-${orderId}`;
    await db.transaction((tx) => restock(tx, { [sku]: 5 }));
    const reserveKey = keyOf(orderId, 'reserveStock');
    // The reservation is written but not committed when the (empty-looking) release arrives.
    const gate = gated(db, /^INSERT INTO stock_reservations/, 'after');
    const reserving = createParticipants(gate.db);
    const { first, second } = await race(
      gate,
      () => reserving.inventory.reserveStock({ ...refOf(orderId, 'reserveStock'), lines: [{ sku, quantity: 3 }] }),
      () => p.inventory.releaseStock({ ...refOf(orderId, 'releaseStock'), reserveKey }),
    );
    assert.ok(first.ok && second.ok);
    assert.deepEqual(await stockOf(db, sku), { onHand: 5, reserved: 0 }, 'no stock stays reserved for an undone order');
    assert.deepEqual(await tombstones(db, 'stock_tombstones', orderId), [], 'the reservation did happen: no tombstone');
    assert.deepEqual(await eventsOf(db, orderId), ['StockReserved', 'StockReleased']);
  });

  test('a cancellation that waits on a dispatch in progress leaves the dispatch alone', async () => {
    const orderId = uniqueId('cancel-vs-dispatch');
    const allocate = { ...refOf(orderId, 'allocateShipment'), recipient };
    await p.shipping.allocateShipment(allocate);
    const gate = gated(db, /^UPDATE shipments/, 'after');
    const dispatching = createParticipants(gate.db);
    const { first, second } = await race(
      gate,
      () =>
        dispatching.shipping.recordDispatch({
          ...refOf(orderId, 'awaitDispatch'),
          allocateKey: allocate.key,
          trackingNumber: 'T1',
        }),
      () => p.shipping.cancelShipment({ ...refOf(orderId, 'cancelShipment'), allocateKey: allocate.key }),
    );
    assert.ok(first.ok && second.ok);
    assert.equal(second.value.applied, false, 'a dispatched parcel is past the point of no return');
    assert.equal(await shipmentStatus(db, orderId), 'dispatched');
    assert.deepEqual(await eventsOf(db, orderId), ['ShipmentAllocated', 'ShipmentDispatched']);
  });

  test('a confirmation that waits on a cancellation in progress refuses instead of reviving the order', async () => {
    const orderId = uniqueId('cancel-vs-confirm');
    await p.orders.submitOrder(submission(orderId));
    const gate = gated(db, /^UPDATE orders/, 'after');
    const cancelling = createParticipants(gate.db);
    const { first, second } = await race(
      gate,
      () => cancelling.orders.cancelOrder({ ...refOf(orderId, 'cancelOrder'), outcome: 'CANCELLED', reason: 'customer' }),
      () => p.orders.confirmOrder(confirmation(orderId)),
    );
    assert.ok(first.ok);
    assert.equal(second.ok, false);
    assert.equal((second as { error: { type?: string } }).error.type, StepAlreadyUndone);
    assert.equal(await orderStatus(db, orderId), 'CANCELLED');
    assert.deepEqual(await eventsOf(db, orderId), ['OrderSubmitted', 'OrderCancelled']);
  });
});
