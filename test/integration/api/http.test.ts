// Invariant: the HTTP API drives the same sagas as the typed client: a start is idempotent per
// order id (201 then 200, one saga), an invalid order is refused field by field with 400 and
// starts no workflow, GET returns the saga ledger, cancel answers 202 until dispatch and 409
// afterwards, the warehouse's dispatch completes the saga, and unknown orders are 404. Its
// request log names orders by id and never carries a body (no name, email, street or token).
// (Called as an operator, who may use every route; roles are tested in auth.test.ts.)
import { WorkflowNotFoundError } from '@temporalio/client';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Writable } from 'node:stream';
import pino from 'pino';
import { restock } from '../../../activities/inventory/ledger';
import { startApiServer, type ApiServer } from '../../../workers/api';
import { redactedPaths } from '../../../platform/log';
import { type SagaProgress } from '../../../workflows/definitions';
import { workflowIdFor } from '../../../domain/ids';
import { anOrder, startHarness, uniqueId, type SagaHarness } from '../workflows/harness';
import { waitUntil } from '../../wait';
import { testAuth, type Caller } from './auth-fixture';

let h: SagaHarness;
let api: ApiServer;
let call: Caller;
let provider: ReturnType<ReturnType<typeof testAuth>['provider']>;
let auth: ReturnType<typeof testAuth>;
const logged: string[] = [];
before(async () => {
  h = await startHarness();
  // The project's redaction, writing into memory so the test can read what the API logged.
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged.push(chunk.toString('utf8'));
      done();
    },
  });
  const log = pino({ name: 'api-test', level: 'info', redact: { paths: redactedPaths, censor: '[redacted]' } }, sink);
  auth = testAuth();
  api = await startApiServer({
    client: h.client,
    taskQueue: h.taskQueue,
    port: 0,
    host: '127.0.0.1',
    log,
    ...auth.serverOptions,
  });
  call = auth.caller(api.url, 'operator');
  provider = auth.provider(api.url);
});
after(async () => {
  await api.close();
  await h.stop();
});

async function stockedOrder(label: string) {
  const orderId = uniqueId(label);
  const sku = `sku-${orderId}`;
  await h.db.transaction((tx) => restock(tx, { [sku]: 10 }));
  return anOrder({ orderId, lines: [{ sku, quantity: 1, unitPrice: { amount: 1000, currency: 'EUR' } }] });
}

const ledgerReaches = (orderId: string, status: string) =>
  waitUntil(
    async () => {
      const r = await call('GET', `/orders/${orderId}`);
      return r.status === 200 && (r.body as unknown as SagaProgress).status === status
        ? (r.body as unknown as SagaProgress)
        : undefined;
    },
    { timeoutMs: 30_000, what: `order ${orderId} to reach ${status} over HTTP` },
  );

test('POST /orders starts a saga once: 201, then 200 with the same saga', async () => {
  const order = await stockedOrder('http-start');
  const first = await call('POST', '/orders', order);
  assert.equal(first.status, 201);
  assert.deepEqual(first.body, { orderId: order.orderId, workflowId: workflowIdFor(order.orderId), status: 'RUNNING' });

  const again = await call('POST', '/orders', order);
  assert.equal(again.status, 200);
  assert.equal(again.body.orderId, order.orderId);
  assert.equal(again.body.workflowId, workflowIdFor(order.orderId));
  assert.equal(typeof again.body.status, 'string');

  // Visibility lags the start: wait until it lists the saga, then count its runs.
  const runs = await waitUntil(
    async () => {
      const ids: string[] = [];
      for await (const w of h.client.workflow.list({ query: `WorkflowId = '${workflowIdFor(order.orderId)}'` }))
        ids.push(w.runId);
      return ids.length ? ids : undefined;
    },
    { what: 'the saga in visibility' },
  );
  assert.equal(runs.length, 1, 'one saga for the order');
});

test('an invalid order gets 400 with field errors and starts nothing', async () => {
  const orderId = uniqueId('http-invalid');
  const order = anOrder({ orderId, customer: { id: 'c-1', name: 'Ada', email: 'not-an-email' } });
  const bad = { ...order, lines: [{ sku: 'beans', quantity: 0, unitPrice: { amount: 100, currency: 'EUR' } }] };
  const r = await call('POST', '/orders', bad);
  assert.equal(r.status, 400);
  assert.equal(r.body.error, 'invalid_order');
  const paths = (r.body.fields as Array<{ path: string; message: string }>).map((f) => f.path).sort();
  assert.deepEqual(paths, ['customer.email', 'lines.0.quantity']);
  for (const f of r.body.fields as Array<{ path: string; message: string }>) assert.ok(f.message.length > 0);
  await assert.rejects(
    h.client.workflow.getHandle(workflowIdFor(orderId)).describe(),
    WorkflowNotFoundError,
    'no workflow exists for a refused order',
  );

  const notJson = await call('POST', '/orders', '{"orderId": ');
  assert.equal(notJson.status, 400);
  assert.equal(notJson.body.error, 'invalid_json');
});

test('GET /orders/:id returns the ledger; dispatch completes the saga', async () => {
  const order = await stockedOrder('http-get');
  assert.equal((await call('POST', '/orders', order)).status, 201);
  const ledger = await ledgerReaches(order.orderId, 'AWAITING_DISPATCH');
  assert.equal(ledger.orderId, order.orderId);
  assert.equal(ledger.workflowId, workflowIdFor(order.orderId));
  assert.equal(ledger.currentStep, 'awaitDispatch');
  assert.ok(ledger.steps.some((s) => s.name === 'authorizePayment' && s.state === 'done'));

  const missing = await call('POST', `/orders/${order.orderId}/dispatch`, { carrier: 'UPS' });
  assert.equal(missing.status, 400, 'a dispatch without a tracking number is refused');
  const dispatched = await call('POST', `/orders/${order.orderId}/dispatch`, { trackingNumber: 'TRK-9', carrier: 'UPS' });
  assert.equal(dispatched.status, 200);
  await ledgerReaches(order.orderId, 'COMPLETED');
  const late = await call('POST', `/orders/${order.orderId}/cancel`, { reason: 'too late' });
  assert.equal(late.status, 409);
  assert.equal(late.body.error, 'not_cancellable');
  assert.match(String(late.body.reason), /COMPLETED|dispatch/);
});

test('cancel is accepted with 202 before dispatch, then refused with 409', async () => {
  const order = await stockedOrder('http-cancel');
  await call('POST', '/orders', order);
  await ledgerReaches(order.orderId, 'AWAITING_DISPATCH');
  assert.equal((await call('POST', `/orders/${order.orderId}/cancel`, {})).status, 400, 'a cancel needs a reason');
  const accepted = await call('POST', `/orders/${order.orderId}/cancel`, { reason: 'changed my mind' });
  assert.equal(accepted.status, 202);
  assert.equal(accepted.body.accepted, true);
  const cancelled = await ledgerReaches(order.orderId, 'CANCELLED');
  assert.deepEqual(cancelled.cancellation, { reason: 'changed my mind' });
  const again = await call('POST', `/orders/${order.orderId}/cancel`, { reason: 'again' });
  assert.equal(again.status, 409);
  assert.match(String(again.body.reason), /CANCELLED/);
});

test('unknown orders are 404 on every order route', async () => {
  const orderId = uniqueId('http-unknown');
  assert.equal((await call('GET', `/orders/${orderId}`)).status, 404);
  assert.equal((await call('POST', `/orders/${orderId}/cancel`, { reason: 'x' })).status, 404);
  assert.equal((await call('POST', `/orders/${orderId}/dispatch`, { trackingNumber: 'T' })).status, 404);
  assert.equal((await provider(orderId, { authorizationId: 'a', approved: true })).status, 404);
  assert.equal((await call('GET', '/nowhere')).status, 404);
});

test('the API shows /healthz, /readyz and /metrics on its port', async () => {
  assert.equal((await fetch(`${api.url}/healthz`)).status, 200);
  assert.equal((await fetch(`${api.url}/readyz`)).status, 200);
  const metrics = await (await fetch(`${api.url}/metrics`)).text();
  assert.match(metrics, /trapeze_api_requests_total\{route="POST \/orders",status="201"\}/);
});

test('the request log names orders by id and callers by role and token name, never a body or a token', async () => {
  const order = await stockedOrder('http-log');
  await call('POST', '/orders', order);
  await call('POST', '/orders', { ...order, orderId: uniqueId('http-log-bad'), customer: { ...order.customer, email: 'nope' } });
  const text = logged.join('');
  assert.match(text, new RegExp(`"orderId":"${order.orderId}"`));
  assert.match(text, /"role":"operator","caller":"dev-operator"/);
  for (const secret of ['Grace Hopper', 'grace@example.com', '1 Main St', 'tok_visa', '22201', auth.tokens.operator])
    assert.ok(!text.includes(secret), `log carries ${secret}`);
});
