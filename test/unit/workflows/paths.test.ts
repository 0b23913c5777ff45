// Invariant: every path of the saga ends in its named terminal state; one that compensates runs
// every undo, newest first (release 1.4: an undo whose step never ran is a no-op; see
// workflows/order-fulfillment.ts): completion, each business refusal, a technical failure,
// the customer's cancellation at each wait, an operator's cancellation, a stuck undo, an SLA
// escalation and the dispatch race. Participants are mocked; the time-skipping server runs it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitUntil } from '../../wait';
import { Hold, anOrder, startSagaTestEnv, type SagaTestEnv } from './saga-harness';

let t: SagaTestEnv;
before(async () => {
  t = await startSagaTestEnv();
});
after(async () => {
  await t.stop();
});

const FORWARD = ['submitOrder', 'screenOrder', 'authorizePayment', 'reserveStock', 'allocateShipment', 'confirmOrder'];

test('an order every participant accepts completes, each step once and in order', async () => {
  const orderId = t.script('happy');
  await t.orders.startOrder(anOrder(orderId));
  await t.statusReaches(orderId, 'AWAITING_DISPATCH');
  await t.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-1' });
  const result = await t.handle(orderId).result();
  assert.equal(result.status, 'COMPLETED');
  assert.deepEqual(t.calls(orderId), [...FORWARD, 'recordDispatch', 'capturePayment', 'completeOrder']);
  assert.deepEqual(
    result.progress.compensations.map((c) => c.state),
    ['registered', 'registered', 'registered', 'registered'],
  );
});

const EVERY_UNDO = ['cancelShipment', 'releaseStock', 'voidAuthorization', 'cancelOrder'];

for (const [step, refusal] of [
  ['screenOrder', 'FraudSuspected'],
  ['authorizePayment', 'PaymentDeclined'],
  ['reserveStock', 'StockUnavailable'],
  ['allocateShipment', 'AddressUndeliverable'],
] as const) {
  test(`${refusal} at ${step} rejects the order and runs every undo, newest first`, async () => {
    const orderId = t.script('refused', { faults: { [step]: { refuse: refusal } } });
    await t.orders.startOrder(anOrder(orderId));
    const result = await t.handle(orderId).result();
    assert.equal(result.status, 'REJECTED');
    const calls = t.calls(orderId);
    assert.deepEqual(calls.slice(calls.indexOf(step) + 1), EVERY_UNDO);
  });
}

test('a step whose retry policy is exhausted fails the order with its cause and undoes what came before', async () => {
  const orderId = t.script('exhausted', { faults: { reserveStock: { fail: Infinity } } });
  await t.orders.startOrder(anOrder(orderId));
  const result = await t.handle(orderId).result();
  assert.equal(result.status, 'FAILED');
  assert.match(result.reason ?? '', /^reserveStock failed: reserveStock: participant unavailable/);
  const calls = t.calls(orderId);
  assert.equal(calls.filter((c) => c === 'reserveStock').length, 10, 'ten attempts');
  assert.deepEqual(calls.slice(calls.lastIndexOf('reserveStock') + 1), EVERY_UNDO);
});

test('a participant down for nine attempts in a row (~21 s: a database restart) is waited out and the order completes', async () => {
  const orderId = t.script('outage', { faults: { screenOrder: { fail: 9 } } });
  await t.orders.startOrder(anOrder(orderId));
  // The backoff's ~26 s pass in the test server's time; polling a query alone would wait them out for real.
  await t.env.sleep('30s');
  await t.statusReaches(orderId, 'AWAITING_DISPATCH');
  await t.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-OUTAGE' });
  assert.equal((await t.handle(orderId).result()).status, 'COMPLETED');
  assert.equal(t.calls(orderId).filter((c) => c === 'screenOrder').length, 10);
});

test('a transient failure is retried and the order completes with one effect per step', async () => {
  const orderId = t.script('transient', { faults: { allocateShipment: { fail: 2 } } });
  await t.orders.startOrder(anOrder(orderId));
  await t.statusReaches(orderId, 'AWAITING_DISPATCH');
  await t.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-2' });
  assert.equal((await t.handle(orderId).result()).status, 'COMPLETED');
  assert.equal(t.calls(orderId).filter((c) => c === 'allocateShipment').length, 3);
});

test('a cancellation while waiting for the payment provider voids the authorization and cancels the order', async () => {
  const orderId = t.script('cancel-payment', { authorization: 'pending' });
  await t.orders.startOrder(anOrder(orderId));
  await t.statusReaches(orderId, 'AWAITING_PAYMENT');
  await t.orders.cancelOrder(orderId, 'changed my mind');
  const result = await t.handle(orderId).result();
  assert.equal(result.status, 'CANCELLED');
  assert.deepEqual(t.calls(orderId).slice(3), EVERY_UNDO);
});

test('a cancellation while waiting for dispatch undoes shipment, stock, authorization and order', async () => {
  const orderId = t.script('cancel-dispatch');
  await t.orders.startOrder(anOrder(orderId));
  await t.statusReaches(orderId, 'AWAITING_DISPATCH');
  await t.orders.cancelOrder(orderId, 'too slow');
  const result = await t.handle(orderId).result();
  assert.equal(result.status, 'CANCELLED');
  assert.deepEqual(t.calls(orderId).slice(FORWARD.length), [
    'cancelShipment',
    'releaseStock',
    'voidAuthorization',
    'cancelOrder',
  ]);
});

test('a cancellation after a capture at confirmation refunds before anything else is undone', async () => {
  const orderId = t.script('cancel-captured');
  await t.orders.startOrder(anOrder(orderId, { payment: { methodToken: 'tok_ok', capture: 'at-confirmation' } }));
  await t.statusReaches(orderId, 'AWAITING_DISPATCH');
  await t.orders.cancelOrder(orderId, 'returned');
  assert.equal((await t.handle(orderId).result()).status, 'CANCELLED');
  assert.deepEqual(t.calls(orderId).slice(FORWARD.length + 1), [
    'refundPayment',
    'cancelShipment',
    'releaseStock',
    'voidAuthorization',
    'cancelOrder',
  ]);
});

test("an operator's workflow cancellation before dispatch undoes every registered step", async () => {
  const orderId = t.script('operator-cancel');
  await t.orders.startOrder(anOrder(orderId));
  await t.statusReaches(orderId, 'AWAITING_DISPATCH');
  await t.handle(orderId).cancel();
  const result = await t.handle(orderId).result();
  assert.equal(result.status, 'CANCELLED');
  assert.match(result.reason ?? '', /operator/);
  assert.deepEqual(t.calls(orderId).slice(FORWARD.length), [
    'cancelShipment',
    'releaseStock',
    'voidAuthorization',
    'cancelOrder',
  ]);
});

test('an undo that fails is retried in rounds, visible while stuck, until it succeeds', async () => {
  // Three attempts per round: rounds one and two fail, round three succeeds.
  const orderId = t.script('stuck-undo', {
    faults: { reserveStock: { refuse: 'StockUnavailable' }, voidAuthorization: { fail: 6 } },
  });
  await t.orders.startOrder(anOrder(orderId));
  const result = await t.handle(orderId).result();
  assert.equal(result.status, 'REJECTED');
  const voided = result.progress.compensations.find((c) => c.name === 'voidAuthorization');
  assert.equal(voided?.state, 'done');
  assert.equal(voided?.rounds, 3);
  assert.equal(t.calls(orderId).filter((c) => c === 'voidAuthorization').length, 7);
  assert.equal(t.calls(orderId).at(-1), 'cancelOrder', 'the older undo waits for the stuck one');
});

test('a dispatch that outlives its SLA escalates once, keeps waiting, and completes when it comes', async () => {
  const orderId = t.script('escalation');
  await t.orders.startOrder(anOrder(orderId));
  await t.statusReaches(orderId, 'AWAITING_DISPATCH');
  await t.env.sleep('3 days');
  const escalated = await t.statusReaches(orderId, 'ESCALATED');
  assert.deepEqual(
    escalated.escalations.map(({ waitingFor, slaSeconds }) => ({ waitingFor, slaSeconds })),
    [{ waitingFor: 'dispatch', slaSeconds: 2 * 24 * 3600 }],
  );
  await t.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-LATE' });
  assert.equal((await t.handle(orderId).result()).status, 'COMPLETED');
  assert.equal(t.calls(orderId).filter((c) => c === 'escalateOrder').length, 1);
});

test('a dispatch is refused before a shipment exists, and a cancellation is refused after dispatch', async () => {
  const allocation = new Hold();
  const orderId = t.script('dispatch-race', { holds: { allocateShipment: allocation } });
  await t.orders.startOrder(anOrder(orderId));
  await waitForHold(allocation);
  const early = await t.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-EARLY' });
  assert.equal(early.accepted, false);
  assert.match(early.accepted ? '' : early.reason, /cannot dispatch/);
  allocation.release();
  await t.statusReaches(orderId, 'AWAITING_DISPATCH');
  await t.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-3' });
  const late = await t.orders.cancelOrder(orderId, 'too late');
  assert.equal(late.accepted, false);
  assert.match(late.accepted ? '' : late.reason, /cannot cancel/);
  assert.equal((await t.handle(orderId).result()).status, 'COMPLETED');
});

const waitForHold = (hold: Hold) => waitUntil(() => hold.entered, { what: 'the held call to start' });
