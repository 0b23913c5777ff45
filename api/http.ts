// Over 250 lines on purpose: every route of the public API with its role and schema in one place, because the OpenAPI document is generated from it.
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { isGrpcServiceError, ServiceError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { z } from 'zod';
import { CancelRequest, DispatchConfirmation, PaymentResult } from '../domain/order-messages';
import { OrderInput } from '../domain/order';
import { workflowIdFor } from '../domain/ids';
import { actsFor, boundToSome, callerOf, requireRole, type Role, type Tokens } from '../platform/auth';
import { packageVersion } from '../platform/deployment';
import { HttpError, rawBodyOf, typed } from '../platform/http';
import { CustomerIdAttribute, SagaStatusAttribute, TASK_QUEUE } from '../workflows/definitions';
import { createOrderClient, OrderConflictError } from './client';
import { DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyPaymentWebhook } from './payment-webhook';

/**
 * The order saga over HTTP, for teams that do not use TypeScript: the same typed client behind
 * JSON routes whose validation and OpenAPI document (GET /openapi.json, a docs page at /docs)
 * come from the client's own zod schemas. Every order route takes a bearer token of an allowed
 * role (platform/auth.ts); the payment webhook instead carries the provider's signature
 * (api/payment-webhook.ts) and must name the saga's own authorization. A start is idempotent per
 * order id and body (201 the first time, 200 with the same saga for the same order, 409 for a
 * different one). Logs and metrics name routes, statuses and order ids, never a request body.
 */
export const MAX_ORDER_BYTES = 256 * 1024;
export const MAX_MESSAGE_BYTES = 16 * 1024;

export interface OrderApiOptions {
  client: Client;
  taskQueue?: string;
  log: Logger;
  /** Request counts and latencies by route and status are registered here. */
  registry: Registry;
  /** Who may call the order routes. */
  tokens: Tokens;
  /** The payment provider's webhook secrets (none: every webhook is refused with 503). */
  webhook: { secrets: readonly string[]; toleranceSeconds?: number };
}

// --- the answers, for the OpenAPI document ---
const ErrorBody = z
  .object({
    error: z.string().describe('a stable code: invalid_order, unauthorized, forbidden, not_found, order_conflict, …'),
    reason: z.string().optional().describe('what went wrong, for people'),
    fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .loose();
const OrderStarted = z.object({ orderId: z.string(), workflowId: z.string(), status: z.string() });
const Accepted = z.object({ accepted: z.literal(true), orderId: z.string(), status: z.string().optional() });
const StepRecord = z.object({
  name: z.string(),
  state: z.enum(['running', 'done', 'failed']),
  result: z.unknown().optional(),
  error: z.string().optional(),
});
const SagaProgressBody = z
  .object({
    run: z.number().optional().describe('1 for the first run of the saga, 2 after it continued as new once, …'),
    orderId: z.string(),
    workflowId: z.string(),
    status: z.string(),
    currentStep: z.string().nullable(),
    steps: z.array(StepRecord),
    compensations: z.array(
      z.object({
        name: z.string(),
        state: z.enum(['registered', 'running', 'retrying', 'done']),
        sequence: z.number().optional(),
        rounds: z.number(),
        result: z.unknown().optional(),
        lastError: z.string().optional(),
      }),
    ),
    escalations: z.array(z.object({ waitingFor: z.string(), slaSeconds: z.number() })),
    cancellation: z.object({ reason: z.string() }).optional(),
    outcome: z.object({ status: z.string(), reason: z.string().optional() }).optional(),
    patches: z.array(z.string()),
  })
  .describe('the `saga` query of workflows/definitions.ts (SagaProgress)');
const OrderParams = z.object({ id: z.string().min(1).max(200).describe('the order id') });
const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, ErrorBody]));
const bearerOnly = [{ bearer: [] }];

/** Temporal's refusals of what we asked are 4xx; only an unreachable or overloaded Temporal is 503. */
export function temporalErrorAnswer(err: unknown): HttpError | undefined {
  if (!(err instanceof ServiceError)) return undefined;
  const code = isGrpcServiceError(err.cause) ? Number(err.cause.code) : undefined;
  const reason = isGrpcServiceError(err.cause) ? err.cause.details : err.message;
  switch (code) {
    case GRPC.INVALID_ARGUMENT:
    case GRPC.OUT_OF_RANGE:
      return new HttpError(422, { error: 'unprocessable', reason });
    case GRPC.FAILED_PRECONDITION:
    case GRPC.ALREADY_EXISTS:
      return new HttpError(409, { error: 'conflict', reason });
    case GRPC.NOT_FOUND:
      return new HttpError(404, { error: 'not_found', reason });
    case GRPC.RESOURCE_EXHAUSTED:
      return new HttpError(429, { error: 'rate_limited', reason }, { 'retry-after': '1' });
    default:
      return new HttpError(503, { error: 'unavailable' }, { 'retry-after': '1' });
  }
}
/** The gRPC status codes Temporal answers with (grpc/status.proto). */
const GRPC = {
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  OUT_OF_RANGE: 11,
} as const;

/** Registers the OpenAPI document (GET /openapi.json) and its docs page (GET /docs); before any route. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Trapeze order API',
        version: packageVersion(),
        description:
          'Start, read, cancel and dispatch order sagas. Every route but the payment webhook takes `Authorization: Bearer <token>`; ' +
          'each route names the roles it allows. Errors are `{ "error": "<code>", … }`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'a token of role client, warehouse or operator' },
          webhookSignature: {
            type: 'apiKey',
            in: 'header',
            name: SIGNATURE_HEADER,
            description: `v1=HMAC-SHA256(secret, "<${TIMESTAMP_HEADER}>.<raw body>") in hex, with ${TIMESTAMP_HEADER} in unix seconds`,
          },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
}

/** The order routes on an app made by platform/http.ts (after registerOpenApi). */
export function registerOrderRoutes(
  app: FastifyInstance,
  { client, taskQueue = TASK_QUEUE, log, registry, tokens, webhook }: OrderApiOptions,
): void {
  const orders = createOrderClient(client, { taskQueue });
  const requests = new Counter({
    name: 'trapeze_api_requests_total',
    help: 'HTTP API requests by route and status',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'trapeze_api_request_seconds',
    help: 'HTTP API request latency by route',
    labelNames: ['route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  const orderIds = new WeakMap<FastifyRequest, string>();
  const ORDER_ROUTES = new Set([
    '/orders',
    '/orders/:id',
    '/orders/:id/cancel',
    '/orders/:id/dispatch',
    '/orders/:id/payment-result',
  ]);
  app.addHook('onResponse', async (req, reply) => {
    const url = req.routeOptions.url;
    if (url !== undefined && !ORDER_ROUTES.has(url)) return; // health, docs: not the API's traffic
    const route = url === undefined ? 'unmatched' : `${req.method} ${url}`;
    const params = req.params as { id?: string } | undefined;
    const orderId = orderIds.get(req) ?? params?.id;
    const seconds = reply.elapsedTime / 1000;
    requests.inc({ route, status: String(reply.statusCode) });
    latency.observe({ route }, seconds);
    // Who asked, by role and token name (never the token): an operator's cancel is attributable.
    const caller = callerOf(req);
    log.info(
      {
        method: req.method,
        route,
        orderId,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        ...(caller ? { role: caller.role, caller: caller.name } : {}),
      },
      'request',
    );
  });

  const allow = (...roles: Role[]) => requireRole(tokens, roles);
  const rolesText = (...roles: Role[]) => `Roles: ${roles.join(', ')}.`;
  /** The saga's status as visibility last saw it, or undefined when the order has no saga. */
  const existing = async (orderId: string): Promise<string | undefined> => {
    try {
      const d = await client.workflow.getHandle(workflowIdFor(orderId)).describe();
      return d.typedSearchAttributes.get(SagaStatusAttribute) ?? d.status.name;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  };
  const notFound = (orderId: string) => new HttpError(404, { error: 'not_found', orderId });
  const unknownOrder = (orderId: string) => (err: unknown) => {
    throw err instanceof WorkflowNotFoundError ? notFound(orderId) : err;
  };
  /**
   * A client bound to some customers sees another customer's order as missing: 404 like an unknown
   * id, not 403, so order ids do not leak across customers.
   */
  const mustSee = async (req: FastifyRequest, orderId: string): Promise<void> => {
    const caller = callerOf(req);
    if (!caller || !boundToSome(caller)) return;
    const d = await client.workflow.getHandle(workflowIdFor(orderId)).describe().catch(unknownOrder(orderId));
    const customerId = d.typedSearchAttributes.get(CustomerIdAttribute);
    if (customerId === undefined || !actsFor(caller, customerId)) throw notFound(orderId);
  };

  const api = typed(app);

  api.post(
    '/orders',
    {
      bodyLimit: MAX_ORDER_BYTES,
      onRequest: allow('client', 'operator'),
      config: { invalidError: 'invalid_order' },
      schema: {
        summary: 'Start an order saga (idempotent per order id and body)',
        description: `${rolesText('client', 'operator')} A client starts orders only for the customers its token is bound to (403 otherwise). 201: started. 200: this order already has this saga. 409 order_conflict: the order id is taken by a different order.`,
        security: bearerOnly,
        body: OrderInput,
        response: { 201: OrderStarted, 200: OrderStarted, ...errors(400, 401, 403, 409, 413, 415, 422, 503) },
      },
    },
    async (req, reply) => {
      orderIds.set(req, req.body.orderId);
      const caller = callerOf(req);
      if (caller && !actsFor(caller, req.body.customer.id))
        throw new HttpError(403, { error: 'forbidden', reason: "this token does not act for the order's customer" });
      try {
        const saga = await orders.startOrder(req.body);
        return reply
          .code(saga.created ? 201 : 200)
          .send({ orderId: saga.orderId, workflowId: saga.workflowId, status: saga.status });
      } catch (err) {
        // The id is another order's, maybe another customer's: a bound client learns no more than that.
        if (err instanceof OrderConflictError && caller && boundToSome(caller))
          throw new HttpError(409, { error: 'order_conflict', orderId: err.orderId, reason: 'the order id is taken' });
        if (err instanceof OrderConflictError)
          throw new HttpError(409, {
            error: 'order_conflict',
            orderId: err.orderId,
            workflowId: err.workflowId,
            status: err.status,
            reason: err.message,
          });
        throw err;
      }
    },
  );

  api.get(
    '/orders/:id',
    {
      onRequest: allow('client', 'operator'),
      schema: {
        summary: "The saga's progress: status, current step, steps with results, undos run",
        description: `${rolesText('client', 'operator')} A client reads only the orders of the customers its token is bound to; another customer's order is 404, like an unknown id.`,
        security: bearerOnly,
        params: OrderParams,
        response: { 200: SagaProgressBody, ...errors(401, 403, 404, 503) },
      },
    },
    async (req) => {
      await mustSee(req, req.params.id);
      return orders.getOrder(req.params.id).catch(unknownOrder(req.params.id));
    },
  );

  api.post(
    '/orders/:id/cancel',
    {
      bodyLimit: MAX_MESSAGE_BYTES,
      onRequest: allow('operator'),
      schema: {
        summary: 'Cancel the order (accepted until the parcel is dispatched; the undos run after the answer)',
        description: `${rolesText('operator')} 202: accepted. 409 not_cancellable: dispatched, ended or already being undone.`,
        security: bearerOnly,
        params: OrderParams,
        body: CancelRequest,
        response: { 202: Accepted, ...errors(400, 401, 403, 404, 409, 413, 503) },
      },
    },
    async (req, reply) => {
      const orderId = req.params.id;
      const answer = await orders.cancelOrder(orderId, req.body.reason).catch(unknownOrder(orderId));
      if (!answer.accepted) throw new HttpError(409, { error: 'not_cancellable', orderId, reason: answer.reason });
      // Accepted: the undos run after the answer, so the saga is not yet CANCELLED.
      return reply.code(202).send({ accepted: true, orderId, status: answer.status });
    },
  );

  api.post(
    '/orders/:id/dispatch',
    {
      bodyLimit: MAX_MESSAGE_BYTES,
      onRequest: allow('warehouse', 'operator'),
      schema: {
        summary: 'The warehouse confirms that the parcel left',
        description: `${rolesText('warehouse', 'operator')} 409 not_dispatchable: the order is not awaiting dispatch.`,
        security: bearerOnly,
        params: OrderParams,
        body: DispatchConfirmation,
        response: { 200: Accepted, ...errors(400, 401, 403, 404, 409, 413, 503) },
      },
    },
    async (req) => {
      const orderId = req.params.id;
      const answer = await orders.confirmDispatch(orderId, req.body).catch(unknownOrder(orderId));
      if (!answer.accepted) throw new HttpError(409, { error: 'not_dispatchable', orderId, reason: answer.reason });
      return { accepted: true as const, orderId };
    },
  );

  const { secrets, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS } = webhook;
  api.post(
    '/orders/:id/payment-result',
    {
      bodyLimit: MAX_MESSAGE_BYTES,
      // The provider proves itself by signing the exact bytes it sent; checked before anything is read.
      preValidation: async (req) => {
        if (!secrets.length)
          throw new HttpError(503, { error: 'webhook_not_configured', reason: 'PAYMENT_WEBHOOK_SECRET is not set' });
        const header = (name: string) => {
          const v = req.headers[name];
          return Array.isArray(v) ? v.join(',') : v;
        };
        const verdict = verifyPaymentWebhook({
          secrets,
          body: rawBodyOf(req) ?? '',
          signature: header(SIGNATURE_HEADER),
          timestamp: header(TIMESTAMP_HEADER),
          toleranceSeconds,
        });
        if (!verdict.ok) throw new HttpError(401, { error: verdict.error, reason: verdict.reason });
      },
      schema: {
        summary: "The payment provider's signed result for the order's pending authorization",
        description:
          `Signed, no bearer token: ${SIGNATURE_HEADER}: v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">, ${TIMESTAMP_HEADER}: <unix seconds> ` +
          `(at most ${toleranceSeconds} s off). 401 signature_missing | signature_stale | signature_invalid. ` +
          '409 authorization_mismatch: the result names another authorization than the saga holds; ' +
          'no_authorization: the saga holds none yet; not_awaiting_payment: it was settled without a webhook; order_closed: the saga has ended.',
        security: [{ webhookSignature: [] }],
        params: OrderParams,
        headers: z.object({ [SIGNATURE_HEADER]: z.string(), [TIMESTAMP_HEADER]: z.string() }),
        body: PaymentResult,
        response: { 202: Accepted, ...errors(400, 401, 404, 409, 413, 503) },
      },
    },
    async (req, reply) => {
      const orderId = req.params.id;
      const result = req.body;
      // Bound to the saga's own authorization: a result for another one changes nothing.
      const held = await orders.paymentAuthorization(orderId).catch(unknownOrder(orderId));
      if (!held)
        throw new HttpError(409, {
          error: 'no_authorization',
          orderId,
          reason: `order ${orderId} holds no payment authorization yet`,
        });
      if (held.authorizationId !== result.authorizationId)
        throw new HttpError(409, {
          error: 'authorization_mismatch',
          orderId,
          authorizationId: result.authorizationId,
          reason: `order ${orderId} holds authorization ${held.authorizationId}, not ${result.authorizationId}`,
        });
      if (held.status !== 'pending')
        throw new HttpError(409, {
          error: 'not_awaiting_payment',
          orderId,
          reason: `authorization ${held.authorizationId} was ${held.status} without a webhook`,
        });
      try {
        await orders.reportPaymentResult(orderId, result);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        // A signal reaches only a running saga: a late webhook meets an ended one.
        const status = await existing(orderId);
        throw status === undefined ? notFound(orderId) : new HttpError(409, { error: 'order_closed', orderId, status });
      }
      return reply.code(202).send({ accepted: true as const, orderId });
    },
  );
}
