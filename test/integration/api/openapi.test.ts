// Invariant: the API describes itself from the schemas it validates with (an OpenAPI 3.1 document
// at /openapi.json naming every order route, its roles, bodies and the webhook's signature, and a
// docs page), refuses oversized bodies with 413 before any work, non-JSON with 415, a wrong method
// with 405, and answers Temporal's refusals of a request (INVALID_ARGUMENT, …) with 4xx, not 503.
import { Client, Connection, ServiceError } from '@temporalio/client';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { MAX_MESSAGE_BYTES, MAX_ORDER_BYTES, temporalErrorAnswer } from '../../../api/http';
import { startApiServer, type ApiServer } from '../../../workers/api';
import { anOrder } from '../workflows/harness';
import { testAuth, type Caller } from './auth-fixture';
import { temporalAddress, temporalNamespace } from '../../env';

let api: ApiServer;
let connection: Connection;
let operator: Caller;
before(async () => {
  // No route below reaches Temporal: everything is refused or answered at the edge.
  connection = Connection.lazy({ address: temporalAddress() });
  const auth = testAuth();
  api = await startApiServer({
    client: new Client({ connection, namespace: temporalNamespace() }),
    port: 0,
    host: '127.0.0.1',
    log: pino({ level: 'silent' }),
    ...auth.serverOptions,
  });
  operator = auth.caller(api.url, 'operator');
});
after(async () => {
  await api.close();
  await connection.close();
});

interface OpenApi {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        security?: unknown[];
        description?: string;
        requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }> };
      }
    >
  >;
  components: { securitySchemes: Record<string, unknown> };
}

test('/openapi.json is an OpenAPI 3.1 document of every order route, from the zod schemas', async () => {
  const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as OpenApi;
  assert.equal(doc.openapi, '3.1.0');
  assert.deepEqual(Object.keys(doc.paths).sort(), [
    '/orders',
    '/orders/{id}',
    '/orders/{id}/cancel',
    '/orders/{id}/dispatch',
    '/orders/{id}/payment-result',
  ]);
  const start = doc.paths['/orders']!.post!;
  const order = start.requestBody!.content['application/json']!.schema;
  assert.deepEqual(Object.keys(order.properties ?? {}).sort(), ['customer', 'lines', 'orderId', 'payment', 'shippingAddress']);
  assert.deepEqual(start.security, [{ bearer: [] }]);
  assert.match(start.description ?? '', /Roles: client, operator/);
  assert.match(doc.paths['/orders/{id}/cancel']!.post!.description ?? '', /Roles: operator\./);
  assert.deepEqual(doc.paths['/orders/{id}/payment-result']!.post!.security, [{ webhookSignature: [] }]);
  assert.ok(doc.components.securitySchemes.bearer && doc.components.securitySchemes.webhookSignature);

  const docs = await fetch(`${api.url}/docs`);
  assert.equal(docs.status, 200);
  assert.match(await docs.text(), /swagger/i);
});

test('bodies over the limit are 413 naming it, non-JSON is 415, a wrong method 405', async () => {
  const big = anOrder({ orderId: 'too-big', customer: { id: 'c', name: 'x'.repeat(MAX_ORDER_BYTES), email: 'a@b.co' } });
  const r = await operator('POST', '/orders', big);
  assert.equal(r.status, 413);
  assert.deepEqual(r.body, { error: 'body_too_large', limitBytes: MAX_ORDER_BYTES });
  const cancel = await operator('POST', '/orders/o-1/cancel', { reason: 'x'.repeat(MAX_MESSAGE_BYTES) });
  assert.deepEqual(cancel.body, { error: 'body_too_large', limitBytes: MAX_MESSAGE_BYTES });

  const text = await operator('POST', '/orders/o-1/cancel', 'reason=x', { 'content-type': 'text/plain' });
  assert.equal(text.status, 415);
  assert.equal(text.body.error, 'unsupported_media_type');

  const put = await operator('PUT', '/orders/o-1');
  assert.equal(put.status, 405);
  assert.deepEqual(put.body, { error: 'method_not_allowed', allow: ['GET'] });
  assert.equal((await operator('GET', '/orders/o-1/elsewhere')).status, 404);
});

test("Temporal's refusals of a request are 4xx; only an unreachable Temporal is 503", () => {
  const refusal = (code: number, details: string) =>
    new ServiceError('Failed to start Workflow', { cause: Object.assign(new Error(details), { code, details, metadata: {} }) });
  assert.deepEqual(
    {
      status: temporalErrorAnswer(refusal(3, 'Blob data size exceeds limit.'))?.status,
      body: temporalErrorAnswer(refusal(3, 'Blob data size exceeds limit.'))?.body,
    },
    { status: 422, body: { error: 'unprocessable', reason: 'Blob data size exceeds limit.' } },
  );
  assert.equal(temporalErrorAnswer(refusal(9, 'precondition'))?.status, 409);
  assert.equal(temporalErrorAnswer(refusal(5, 'namespace not found'))?.status, 404);
  assert.equal(temporalErrorAnswer(refusal(8, 'namespace rate limit exceeded'))?.status, 429);
  assert.equal(temporalErrorAnswer(refusal(14, 'connection refused'))?.status, 503);
  assert.equal(temporalErrorAnswer(new Error('a bug')), undefined);
});
