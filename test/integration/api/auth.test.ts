// Invariant: every order route takes only a bearer token of the roles it allows: no token or an
// unknown one is 401, a known token of another role is 403, and a refused request starts no saga
// and changes none (checked before its body is read). client starts and reads orders, warehouse
// dispatches, operator does everything; the payment webhook takes a signature, never a token.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { restock } from '../../../activities/inventory/ledger';
import { workflowIdFor } from '../../../domain/ids';
import { ROLES, type Role } from '../../../platform/auth';
import { startApiServer, type ApiServer } from '../../../workers/api';
import { anOrder, reaches, startHarness, uniqueId, type SagaHarness } from '../workflows/harness';
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

async function stockedOrder(label: string) {
  const orderId = uniqueId(label);
  const sku = `sku-${orderId}`;
  await h.db.transaction((tx) => restock(tx, { [sku]: 10 }));
  return anOrder({ orderId, lines: [{ sku, quantity: 1, unitPrice: { amount: 1000, currency: 'EUR' } }] });
}

const exists = (orderId: string) =>
  h.client.workflow
    .getHandle(workflowIdFor(orderId))
    .describe()
    .then(
      () => true,
      () => false,
    );
const eventsOf = async (orderId: string) =>
  (await h.client.workflow.getHandle(workflowIdFor(orderId)).fetchHistory()).events?.length ?? 0;

type Route = 'start' | 'read' | 'cancel' | 'dispatch';
const ALLOWED: Record<Route, Role[]> = {
  start: ['client', 'operator'],
  read: ['client', 'operator'],
  cancel: ['operator'],
  dispatch: ['warehouse', 'operator'],
};
const request = (route: Route, orderId: string): [string, string, unknown?] => {
  switch (route) {
    case 'start':
      return ['POST', '/orders'];
    case 'read':
      return ['GET', `/orders/${orderId}`];
    case 'cancel':
      return ['POST', `/orders/${orderId}/cancel`, { reason: 'changed my mind' }];
    case 'dispatch':
      return ['POST', `/orders/${orderId}/dispatch`, { trackingNumber: 'TRK-1' }];
  }
};

test('every route × role: allowed roles get through, others 403, no or a bad token 401; nothing refused changes a saga', async () => {
  // A saga waiting for dispatch: every refused cancel or dispatch must leave it exactly as it is.
  const waiting = await stockedOrder('auth-waiting');
  assert.equal((await auth.caller(api.url, 'operator')('POST', '/orders', waiting)).status, 201);
  // The file's first saga also waits for the worker's first poll (slow on a busy machine).
  await reaches(h, waiting.orderId, 'AWAITING_DISPATCH', 90_000);
  const before = await eventsOf(waiting.orderId);

  for (const route of Object.keys(ALLOWED) as Route[]) {
    for (const as of [undefined, 'forged' as const, ...ROLES]) {
      const allowed = as !== undefined && as !== 'forged' && ALLOWED[route].includes(as);
      const fresh = await stockedOrder(`auth-${route}`);
      // Allowed: a start starts; the others meet an unknown order (404), proving the route ran.
      const target = route === 'start' || allowed ? fresh.orderId : waiting.orderId;
      const [method, path, body] = request(route, target);
      const r = await auth.caller(api.url, as)(method, path, route === 'start' ? fresh : body);
      const who = `${method} ${path.replace(target, ':id')} as ${as ?? 'nobody'}`;
      if (as === undefined || as === 'forged') {
        assert.equal(r.status, 401, who);
        assert.equal(r.body.error, 'unauthorized', who);
        assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/, who);
      } else if (!allowed) {
        assert.equal(r.status, 403, who);
        assert.deepEqual(r.body, { error: 'forbidden', role: as, allowed: ALLOWED[route] }, who);
      } else {
        assert.equal(r.status, route === 'start' ? 201 : 404, `${who}: ${JSON.stringify(r.body)}`);
      }
      if (route === 'start') assert.equal(await exists(fresh.orderId), allowed, `${who} started a saga: ${allowed}`);
    }
  }
  assert.equal(await eventsOf(waiting.orderId), before, 'no refused request reached the waiting saga');
  assert.equal((await h.orders.getOrder(waiting.orderId)).status, 'AWAITING_DISPATCH');
});

test('a refused request is refused before its body is read; the webhook takes no token; docs and probes are open', async () => {
  const garbage = '{"orderId": ';
  assert.equal((await auth.caller(api.url, undefined)('POST', '/orders', garbage)).status, 401);
  assert.equal((await auth.caller(api.url, 'warehouse')('POST', '/orders', garbage)).status, 403);
  assert.equal((await auth.caller(api.url, 'client')('POST', '/orders', garbage)).status, 400);

  // An operator's token is no signature: the provider's webhook stays closed to it.
  const orderId = uniqueId('auth-hook');
  const r = await auth.caller(api.url, 'operator')('POST', `/orders/${orderId}/payment-result`, {
    authorizationId: `auth-${orderId}`,
    approved: true,
  });
  assert.equal(r.status, 401);
  assert.equal(r.body.error, 'signature_missing');

  for (const path of ['/openapi.json', '/docs', '/healthz', '/readyz', '/metrics'])
    assert.equal((await fetch(`${api.url}${path}`)).status, 200, path);
});
