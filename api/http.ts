import { ServiceError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { z } from 'zod';
import { SagaStatusAttribute, TASK_QUEUE } from '../workflows/definitions';
import { workflowIdFor } from '../domain/ids';
import { createOrderClient, InvalidOrderError } from './client';
import { parseOrder } from '../domain/order';

/**
 * The order saga over HTTP, for teams that do not use TypeScript: the same typed client behind
 * JSON routes. A start is idempotent per order id (201 the first time, 200 with the same saga
 * afterwards); an invalid order is refused field by field with 400 and starts nothing.
 * Logs and metrics name routes, statuses and order ids, never a request body.
 */
const MAX_BODY_BYTES = 256 * 1024;

const CancelBody = z.object({ reason: z.string().trim().min(1).max(500) });
const DispatchBody = z.object({
  trackingNumber: z.string().trim().min(1).max(100),
  carrier: z.string().trim().min(1).max(100).optional(),
});
const PaymentResultBody = z.object({
  authorizationId: z.string().min(1).max(200),
  approved: z.boolean(),
  reason: z.string().max(500).optional(),
});

/** An answer that ends the request early: bad JSON, an oversized body, an invalid request. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.error));
  }
}

type FieldIssues = Array<{ path: string; message: string }>;
const invalid = (error: string, fields: FieldIssues) => new HttpError(400, { error, fields });

function parseWith<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw invalid(
    'invalid_request',
    parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  );
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, { error: 'body_too_large', limitBytes: MAX_BODY_BYTES });
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, { error: 'invalid_json' });
  }
}

export interface OrderApiOptions {
  client: Client;
  taskQueue?: string;
  log: Logger;
  /** Request counts and latencies by route and status are registered here. */
  registry: Registry;
}

interface Reply {
  status: number;
  body: unknown;
  /** The order a body named (POST /orders), for the request log. */
  orderId?: string;
}
type Route = { method: string; pattern: RegExp; name: string; handle: (req: IncomingMessage, orderId: string) => Promise<Reply> };

export type OrderApi = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function createOrderApi({ client, taskQueue = TASK_QUEUE, log, registry }: OrderApiOptions): OrderApi {
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

  /** The saga's status as Temporal's visibility last saw it, or undefined when the order has no saga. */
  const existing = async (orderId: string): Promise<string | undefined> => {
    try {
      const d = await client.workflow.getHandle(workflowIdFor(orderId)).describe();
      return d.typedSearchAttributes.get(SagaStatusAttribute) ?? d.status.name;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  };
  const notFound = (orderId: string): Reply => ({ status: 404, body: { error: 'not_found', orderId } });

  const routes: Route[] = [
    {
      method: 'POST',
      pattern: /^\/orders$/,
      name: 'POST /orders',
      handle: async (req) => {
        const body = await readJson(req);
        let orderId: string;
        try {
          // Validate before looking anything up: an invalid order never reaches Temporal.
          orderId = parseOrder(body).orderId;
        } catch (err) {
          if (err instanceof InvalidOrderError)
            throw invalid(
              'invalid_order',
              err.fields.map((f) => ({ path: f.field, message: f.message })),
            );
          throw err;
        }
        const before = await existing(orderId);
        const saga = await orders.startOrder(body);
        const created = before === undefined;
        return {
          status: created ? 201 : 200,
          orderId,
          body: { orderId: saga.orderId, workflowId: saga.workflowId, status: before ?? 'RUNNING' },
        };
      },
    },
    {
      method: 'GET',
      pattern: /^\/orders\/([^/]+)$/,
      name: 'GET /orders/:id',
      handle: async (_req, orderId) => {
        try {
          return { status: 200, body: await orders.getOrder(orderId) };
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return notFound(orderId);
          throw err;
        }
      },
    },
    {
      method: 'POST',
      pattern: /^\/orders\/([^/]+)\/cancel$/,
      name: 'POST /orders/:id/cancel',
      handle: async (req, orderId) => {
        const { reason } = parseWith(CancelBody, await readJson(req));
        const answer = await orders.cancelOrder(orderId, reason).catch(unknownOrder);
        if (!answer) return notFound(orderId);
        // Accepted: the undos run after the answer, so the saga is not yet CANCELLED.
        return answer.accepted
          ? { status: 202, body: { accepted: true, orderId, status: answer.status } }
          : { status: 409, body: { error: 'not_cancellable', orderId, reason: answer.reason } };
      },
    },
    {
      method: 'POST',
      pattern: /^\/orders\/([^/]+)\/dispatch$/,
      name: 'POST /orders/:id/dispatch',
      handle: async (req, orderId) => {
        const confirmation = parseWith(DispatchBody, await readJson(req));
        const answer = await orders.confirmDispatch(orderId, confirmation).catch(unknownOrder);
        if (!answer) return notFound(orderId);
        return answer.accepted
          ? { status: 200, body: { accepted: true, orderId } }
          : { status: 409, body: { error: 'not_dispatchable', orderId, reason: answer.reason } };
      },
    },
    {
      method: 'POST',
      pattern: /^\/orders\/([^/]+)\/payment-result$/,
      name: 'POST /orders/:id/payment-result',
      handle: async (req, orderId) => {
        const webhook = parseWith(PaymentResultBody, await readJson(req));
        try {
          await orders.reportPaymentResult(orderId, webhook);
          return { status: 202, body: { accepted: true, orderId } };
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          // A signal reaches only a running saga: a late webhook meets an ended one.
          const status = await existing(orderId);
          return status === undefined ? notFound(orderId) : { status: 409, body: { error: 'order_closed', orderId, status } };
        }
      },
    },
  ];

  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const started = process.hrtime.bigint();
    let routeName = 'unmatched';
    let orderId: string | undefined;
    let reply: Reply;
    try {
      const matching = routes.filter((r) => r.pattern.test(path));
      const route = matching.find((r) => r.method === req.method);
      if (!route) {
        reply = matching.length
          ? { status: 405, body: { error: 'method_not_allowed', allow: matching.map((r) => r.method) } }
          : { status: 404, body: { error: 'no_such_route' } };
      } else {
        routeName = route.name;
        const raw = route.pattern.exec(path)?.[1];
        orderId = raw === undefined ? undefined : decodeURIComponent(raw);
        reply = await route.handle(req, orderId ?? '');
        orderId ??= reply.orderId;
      }
    } catch (err) {
      if (err instanceof HttpError) reply = { status: err.status, body: err.body };
      else if (err instanceof URIError) reply = { status: 404, body: { error: 'no_such_route' } };
      else {
        // Temporal errors name workflows and RPCs, not payloads; the body is never logged.
        log.error(
          { route: routeName, orderId, err: err instanceof Error ? `${err.name}: ${err.message}` : String(err) },
          'request failed',
        );
        // Temporal unreachable or overloaded: worth a retry. Anything else is our bug.
        reply =
          err instanceof ServiceError
            ? { status: 503, body: { error: 'unavailable' } }
            : { status: 500, body: { error: 'internal_error' } };
      }
    }
    const body = JSON.stringify(reply.body);
    res
      .writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
      .end(body);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    requests.inc({ route: routeName, status: String(reply.status) });
    latency.observe({ route: routeName }, seconds);
    log.info({ method: req.method, route: routeName, orderId, status: reply.status, ms: Math.round(seconds * 1000) }, 'request');
  };
}

/** An unknown order is a 404, not an error; anything else stays an error. */
function unknownOrder(err: unknown): undefined {
  if (err instanceof WorkflowNotFoundError) return undefined;
  throw err;
}
