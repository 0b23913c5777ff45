// Invariant: a client token acts only for the customers it is bound to. It reads their orders and
// no one else's: another customer's order answers 404 exactly like an unknown id (not 403, so order
// ids do not leak across customers); it starts orders only for them (403, nothing started); and a
// clash with another customer's order id tells it no more than "taken". Operators read every order,
// the warehouse none (403); a client bound to `*` reads all, one bound to nobody reads nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { workflowIdFor } from '../../../domain/ids';
import { hashToken, tokensFrom, type TokenEntry } from '../../../platform/auth';
import { startApiServer, type ApiServer } from '../../../workers/api';
import { anOrder, reaches, startHarness, uniqueId, type SagaHarness } from '../workflows/harness';

type Who = 'shopA' | 'shopBC' | 'desk' | 'unbound' | 'warehouse' | 'operator';
const BINDINGS: Record<Who, Omit<TokenEntry, 'sha256'>> = {
  shopA: { role: 'client', customers: ['cust-a'] },
  shopBC: { role: 'client', customers: ['cust-b', 'cust-c'] },
  desk: { role: 'client', customers: ['*'] },
  unbound: { role: 'client' },
  warehouse: { role: 'warehouse' },
  operator: { role: 'operator' },
};
const tokens = Object.fromEntries(Object.keys(BINDINGS).map((w) => [w, `trp_${w}_${randomBytes(12).toString('hex')}`])) as Record<
  Who,
  string
>;

let h: SagaHarness;
let api: ApiServer;
before(async () => {
  h = await startHarness({ stock: { beans: 100, mug: 100 } });
  const entries = (Object.keys(BINDINGS) as Who[]).map((w) => ({ ...BINDINGS[w], sha256: hashToken(tokens[w]), name: w }));
  api = await startApiServer({
    client: h.client,
    taskQueue: h.taskQueue,
    port: 0,
    host: '127.0.0.1',
    log: pino({ level: 'silent' }),
    tokens: tokensFrom(entries),
    webhook: { secrets: ['unused'] },
  });
});
after(async () => {
  await api.close();
  await h.stop();
});

const call = async (who: Who, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const orderOf = (customerId: string, label: string) =>
  anOrder({ orderId: uniqueId(label), customer: { id: customerId, name: 'Ada Lovelace', email: 'ada@example.com' } });
const exists = (orderId: string) =>
  h.client.workflow
    .getHandle(workflowIdFor(orderId))
    .describe()
    .then(
      () => true,
      () => false,
    );

test('GET /orders/:id, route × role: own customers 200, another customer 404 like an unknown id, warehouse 403', async () => {
  const a = orderOf('cust-a', 'bind-a');
  const b = orderOf('cust-b', 'bind-b');
  for (const order of [a, b]) assert.equal((await call('operator', 'POST', '/orders', order)).status, 201);
  // The first saga of the file also waits for the worker's first poll (slow on a busy machine).
  await reaches(h, a.orderId, 'AWAITING_DISPATCH', 90_000);
  await reaches(h, b.orderId, 'AWAITING_DISPATCH', 90_000);
  const unknown = uniqueId('bind-unknown');

  const expected: Record<Who, [number, number]> = {
    shopA: [200, 404],
    shopBC: [404, 200],
    desk: [200, 200],
    unbound: [404, 404],
    warehouse: [403, 403],
    operator: [200, 200],
  };
  for (const who of Object.keys(expected) as Who[]) {
    const [forA, forB] = expected[who];
    const readA = await call(who, 'GET', `/orders/${a.orderId}`);
    const readB = await call(who, 'GET', `/orders/${b.orderId}`);
    assert.equal(readA.status, forA, `${who} reading cust-a's order`);
    assert.equal(readB.status, forB, `${who} reading cust-b's order`);
    for (const [read, order] of [
      [readA, a],
      [readB, b],
    ] as const) {
      if (read.status === 200) assert.equal(read.body.status, 'AWAITING_DISPATCH');
      // Indistinguishable from an order that does not exist: same status, same body shape.
      if (read.status === 404) assert.deepEqual(read.body, { error: 'not_found', orderId: order.orderId });
    }
    const missing = await call(who, 'GET', `/orders/${unknown}`);
    assert.equal(missing.status, who === 'warehouse' ? 403 : 404);
    if (missing.status === 404) assert.deepEqual(missing.body, { error: 'not_found', orderId: unknown });
  }
});

test("POST /orders: a client starts orders only for its customers; another customer's order id tells it only 'taken'", async () => {
  const other = orderOf('cust-b', 'bind-other');
  const refused = await call('shopA', 'POST', '/orders', other);
  assert.equal(refused.status, 403);
  assert.equal(refused.body.error, 'forbidden');
  assert.equal(await exists(other.orderId), false, 'a refused start starts nothing');
  assert.equal((await call('unbound', 'POST', '/orders', orderOf('cust-a', 'bind-unbound'))).status, 403);

  const own = orderOf('cust-c', 'bind-own');
  assert.equal((await call('shopBC', 'POST', '/orders', own)).status, 201);
  assert.equal((await call('shopBC', 'POST', '/orders', own)).status, 200, 'idempotent for its own order');
  // shopA reuses shopBC's order id for an order of its own customer: a conflict without the other order's state.
  const clash = await call('shopA', 'POST', '/orders', { ...orderOf('cust-a', 'bind-clash'), orderId: own.orderId });
  assert.equal(clash.status, 409);
  assert.deepEqual(clash.body, { error: 'order_conflict', orderId: own.orderId, reason: 'the order id is taken' });
  // An operator's clash keeps the full answer, status included.
  const operatorClash = await call('operator', 'POST', '/orders', { ...orderOf('cust-a', 'bind-clash'), orderId: own.orderId });
  assert.equal(operatorClash.status, 409);
  assert.ok(operatorClash.body.status, 'operators see the state of the order that holds the id');
});
