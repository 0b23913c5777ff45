// Invariant: only the payment provider can settle a pending authorization, and only its own: a
// webhook without a valid signature (missing, forged, stale, or over a tampered body) is refused
// with 401, one naming another authorization than the saga holds with 409; either way the saga
// gets no signal and still waits. A signed result for the saga's own authorization moves it on.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { restock } from '../../../activities/inventory/ledger';
import { paymentWebhookHeaders, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../../api/payment-webhook';
import { workflowIdFor } from '../../../domain/ids';
import { startApiServer, type ApiServer } from '../../../workers/api';
import { anOrder, authorizationOf, reaches, startHarness, uniqueId, type SagaHarness } from '../workflows/harness';
import { testAuth } from './auth-fixture';

let h: SagaHarness;
let api: ApiServer;
let auth: ReturnType<typeof testAuth>;
before(async () => {
  h = await startHarness();
  auth = testAuth();
  api = await startApiServer({
    client: h.client,
    taskQueue: h.taskQueue,
    port: 0,
    host: '127.0.0.1',
    log: pino({ level: 'silent' }),
    ...auth.serverOptions,
  });
});
after(async () => {
  await api.close();
  await h.stop();
});

/** A saga waiting for the provider's answer to its pending authorization. */
async function awaitingPayment(label: string) {
  const orderId = uniqueId(label);
  const sku = `sku-${orderId}`;
  await h.db.transaction((tx) => restock(tx, { [sku]: 10 }));
  const order = anOrder({
    orderId,
    lines: [{ sku, quantity: 1, unitPrice: { amount: 1000, currency: 'EUR' } }],
    payment: { methodToken: 'tok_async' },
  });
  assert.equal((await auth.caller(api.url, 'client')('POST', '/orders', order)).status, 201);
  await reaches(h, orderId, 'AWAITING_PAYMENT');
  return orderId;
}

const signalsOf = async (orderId: string) => {
  const history = await h.client.workflow.getHandle(workflowIdFor(orderId)).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).length;
};

async function post(orderId: string, body: string, headers: Record<string, string>) {
  const res = await fetch(`${api.url}/orders/${orderId}/payment-result`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('an unsigned, forged, stale or tampered webhook is refused with 401 and the saga still waits', async () => {
  const orderId = await awaitingPayment('hook-forged');
  const approve = JSON.stringify({ authorizationId: `auth-${orderId}`, approved: true });
  const now = Math.floor(Date.now() / 1000);

  const unsigned = await post(orderId, approve, {});
  assert.equal(unsigned.status, 401);
  assert.equal(unsigned.body.error, 'signature_missing');
  assert.match(String(unsigned.body.reason), new RegExp(SIGNATURE_HEADER));

  const forged = await auth.provider(api.url)(orderId, JSON.parse(approve), { secret: 'not-the-providers-secret-at-all' });
  assert.equal(forged.status, 401);
  assert.equal(forged.body.error, 'signature_invalid');

  const stale = await auth.provider(api.url)(orderId, JSON.parse(approve), { timestamp: now - 301 });
  assert.equal(stale.status, 401);
  assert.equal(stale.body.error, 'signature_stale');
  const ahead = await auth.provider(api.url)(orderId, JSON.parse(approve), { timestamp: now + 600 });
  assert.equal(ahead.status, 401);
  assert.equal(ahead.body.error, 'signature_stale');

  // Signed for a decline, sent as an approval: the signature covers the exact bytes.
  const declined = JSON.stringify({ authorizationId: `auth-${orderId}`, approved: false, reason: 'insufficient funds' });
  const tampered = await post(orderId, approve, paymentWebhookHeaders(auth.webhookSecret, declined, now));
  assert.equal(tampered.status, 401);
  assert.equal(tampered.body.error, 'signature_invalid');
  // A signature replayed with a fresh timestamp does not match either.
  const signed = paymentWebhookHeaders(auth.webhookSecret, approve, now - 200);
  const moved = await post(orderId, approve, { ...signed, [TIMESTAMP_HEADER]: String(now) });
  assert.equal(moved.status, 401);

  assert.equal(await signalsOf(orderId), 0, 'no refused webhook reached the saga');
  const progress = await h.orders.getOrder(orderId);
  assert.equal(progress.status, 'AWAITING_PAYMENT');
  assert.equal((await authorizationOf(h.db, orderId))?.status, 'pending');
});

test("a signed result for another authorization is refused with 409 naming it; the saga's own moves it on", async () => {
  const orderId = await awaitingPayment('hook-mismatch');
  const provider = auth.provider(api.url);
  const other = await provider(orderId, { authorizationId: 'auth-someone-else', approved: true });
  assert.equal(other.status, 409);
  assert.equal(other.body.error, 'authorization_mismatch');
  assert.equal(other.body.authorizationId, 'auth-someone-else');
  assert.match(String(other.body.reason), new RegExp(`holds authorization auth-${orderId}, not auth-someone-else`));
  assert.equal(await signalsOf(orderId), 0, 'the mismatched result never reached the saga');
  assert.equal((await h.orders.getOrder(orderId)).status, 'AWAITING_PAYMENT');
  assert.equal((await authorizationOf(h.db, orderId))?.status, 'pending');

  const own = await provider(orderId, { authorizationId: `auth-${orderId}`, approved: true });
  assert.equal(own.status, 202);
  assert.deepEqual(own.body, { accepted: true, orderId });
  await reaches(h, orderId, 'AWAITING_DISPATCH');
  assert.equal((await authorizationOf(h.db, orderId))?.status, 'authorized');

  // The provider's retry of the same delivery is answered alike; the saga took the first.
  assert.equal((await provider(orderId, { authorizationId: `auth-${orderId}`, approved: true })).status, 202);
});

test('a saga that settled its authorization without a webhook refuses one with 409', async () => {
  const orderId = uniqueId('hook-sync');
  const sku = `sku-${orderId}`;
  await h.db.transaction((tx) => restock(tx, { [sku]: 10 }));
  await auth.caller(api.url, 'client')(
    'POST',
    '/orders',
    anOrder({ orderId, lines: [{ sku, quantity: 1, unitPrice: { amount: 100, currency: 'EUR' } }] }),
  );
  await reaches(h, orderId, 'AWAITING_DISPATCH');
  const r = await auth.provider(api.url)(orderId, { authorizationId: `auth-${orderId}`, approved: false });
  assert.equal(r.status, 409);
  assert.equal(r.body.error, 'not_awaiting_payment');
  assert.equal(await signalsOf(orderId), 0);
});
