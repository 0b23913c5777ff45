// Invariant: POST /orders is idempotent per order id and body, decided by the server: a repeat
// with the same body gets the same saga (200), a repeat with a different body is refused with 409
// naming the conflict and changes nothing, and of many concurrent first POSTs exactly one is 201.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { restock } from '../../../activities/inventory/ledger';
import { startApiServer, type ApiServer } from '../../../workers/api';
import { workflowIdFor } from '../../../domain/ids';
import { parseOrder } from '../../../domain/order';
import { anOrder, startHarness, uniqueId, type SagaHarness } from '../workflows/harness';
import { waitUntil } from '../../wait';
import { testAuth, type Caller } from './auth-fixture';

let h: SagaHarness;
let api: ApiServer;
let client: Caller;
before(async () => {
  h = await startHarness();
  const auth = testAuth();
  api = await startApiServer({
    client: h.client,
    taskQueue: h.taskQueue,
    port: 0,
    host: '127.0.0.1',
    log: pino({ level: 'silent' }),
    ...auth.serverOptions,
  });
  client = auth.caller(api.url, 'client');
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

async function runsOf(orderId: string): Promise<string[]> {
  // Visibility lags the start: wait until it lists the saga.
  return waitUntil(
    async () => {
      const ids: string[] = [];
      for await (const w of h.client.workflow.list({ query: `WorkflowId = '${workflowIdFor(orderId)}'` })) ids.push(w.runId);
      return ids.length ? ids : undefined;
    },
    { what: 'the saga in visibility' },
  );
}

test('a repeat POST with a different body is refused with 409 naming the conflict; the saga keeps its order', async () => {
  const order = await stockedOrder('idem-diff');
  assert.equal((await client('POST', '/orders', order)).status, 201);
  const amended = { ...order, lines: [{ ...order.lines[0]!, quantity: 2 }] };
  const r = await client('POST', '/orders', amended);
  assert.equal(r.status, 409);
  assert.equal(r.body.error, 'order_conflict');
  assert.equal(r.body.orderId, order.orderId);
  assert.match(String(r.body.reason), /different/);

  // The same body (defaults spelled out or left out) is still the same order.
  const same = await client('POST', '/orders', { ...order, payment: { ...order.payment, capture: 'at-dispatch' } });
  assert.equal(same.status, 200);
  assert.equal(same.body.workflowId, workflowIdFor(order.orderId));

  // The saga runs the first order: one line of quantity 1.
  const handle = h.client.workflow.getHandle(workflowIdFor(order.orderId));
  const history = await handle.fetchHistory();
  const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
  const started = JSON.parse(Buffer.from(input!).toString('utf8')) as { lines: Array<{ quantity: number }> };
  assert.equal(started.lines[0]!.quantity, 1);
  assert.equal((await runsOf(order.orderId)).length, 1);
});

test('ten concurrent first POSTs of one order get exactly one 201; the others 200 with the same saga', async () => {
  const order = await stockedOrder('idem-race');
  const answers = await Promise.all(Array.from({ length: 10 }, () => client('POST', '/orders', order)));
  const statuses = answers.map((a) => a.status).sort();
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 201], `statuses: ${statuses.join(',')}`);
  for (const a of answers) assert.equal(a.body.workflowId, workflowIdFor(order.orderId));
  assert.equal((await runsOf(order.orderId)).length, 1);
});

test('a saga started before order fingerprints were kept is compared by its first input', async () => {
  const order = await stockedOrder('idem-legacy');
  // As release 1.1 started sagas: no fingerprint in the memo.
  await h.client.workflow.start('orderFulfillment', {
    taskQueue: h.taskQueue,
    workflowId: workflowIdFor(order.orderId),
    args: [parseOrder(order)],
  });
  const same = await client('POST', '/orders', order);
  assert.equal(same.status, 200);
  assert.equal(same.body.workflowId, workflowIdFor(order.orderId));
  const different = await client('POST', '/orders', { ...order, payment: { methodToken: 'tok_other' } });
  assert.equal(different.status, 409);
  assert.equal(different.body.error, 'order_conflict');
});
