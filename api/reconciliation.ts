import type { FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { requireRole, type Tokens } from '../platform/auth';
import type { Database } from '../platform/database';
import { acknowledgeFinding, findingById, lastRuns, listFindings, resolveFinding } from '../reconciliation/findings';
import { RuleId } from '../reconciliation/rules';
import { reconciliationWorkerPolling } from '../reconciliation/schedule';
import {
  RECONCILIATION_TASK_QUEUE,
  RECONCILIATION_WORKFLOW,
  type ReconciliationInput,
} from '../workflows/reconciliation-definitions';

/**
 * The reconciliation queue over HTTP, as a table of routes that no framework owns, so the API can
 * mount it whatever serves it (Fastify: one `app.route` per entry, see README), and the
 * reconciliation worker serves it on its own port (`mountReconciliation`):
 *
 *   GET  /reconciliation/findings[?state=open,acknowledged&rule=R]   the queue (open and acknowledged by default)
 *   GET  /reconciliation/findings/:id                                one finding
 *   POST /reconciliation/findings/:id/ack      {by}                  the operator is on it
 *   POST /reconciliation/findings/:id/resolve  {by, resolution}      the operator fixed it
 *   GET  /reconciliation/runs                                        the last runs and their reports
 *   POST /reconciliation/runs                  {rules?}              an on-demand run (202, its workflow id)
 *
 * Every route is the operator's: the queue names orders and customers' troubles, and ack, resolve
 * and runs change what other operators see. `mountReconciliation` takes the tokens so that no
 * server can mount the routes open.
 */
export interface RouteRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}
export interface RouteAnswer {
  status: number;
  body: unknown;
}
export interface ReconciliationRoute {
  method: 'GET' | 'POST';
  /** Fastify/Express style: `:id` is a parameter. */
  path: string;
  handle(req: RouteRequest): Promise<RouteAnswer>;
}

const AckBody = z.object({ by: z.string().trim().min(1).max(100) });
const ResolveBody = z.object({ by: z.string().trim().min(1).max(100), resolution: z.string().trim().min(1).max(1000) });
const RunBody = z.object({ rules: z.array(RuleId).optional() }).default({});
const States = z.array(z.enum(['open', 'acknowledged', 'repaired', 'resolved']));

const invalid = (error: z.ZodError): RouteAnswer => ({
  status: 400,
  body: {
    error: 'invalid_request',
    fields: error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  },
});

export function reconciliationRoutes({
  db,
  client,
  taskQueue = RECONCILIATION_TASK_QUEUE,
}: {
  db: Database;
  client: Client;
  taskQueue?: string;
}): ReconciliationRoute[] {
  const answer = (a: Awaited<ReturnType<typeof acknowledgeFinding>>): RouteAnswer =>
    a.ok
      ? { status: 200, body: a.finding }
      : a.reason === 'unknown'
        ? { status: 404, body: { error: 'unknown_finding' } }
        : { status: 409, body: { error: 'finding_closed', state: a.finding?.state } };
  return [
    {
      method: 'GET',
      path: '/reconciliation/findings',
      handle: async ({ query }) => {
        const states = States.safeParse((query.get('state') ?? 'open,acknowledged').split(',').filter(Boolean));
        if (!states.success) return invalid(states.error);
        const rule = query.get('rule') ?? undefined;
        const findings = await listFindings(db, { states: states.data, ...(rule ? { rule } : {}) });
        return { status: 200, body: { findings } };
      },
    },
    {
      method: 'GET',
      path: '/reconciliation/findings/:id',
      handle: async ({ params }) => {
        const f = await findingById(db, params.id ?? '');
        return f ? { status: 200, body: f } : { status: 404, body: { error: 'unknown_finding' } };
      },
    },
    {
      method: 'POST',
      path: '/reconciliation/findings/:id/ack',
      handle: async ({ params, body }) => {
        const parsed = AckBody.safeParse(body);
        if (!parsed.success) return invalid(parsed.error);
        return answer(await acknowledgeFinding(db, params.id ?? '', parsed.data.by));
      },
    },
    {
      method: 'POST',
      path: '/reconciliation/findings/:id/resolve',
      handle: async ({ params, body }) => {
        const parsed = ResolveBody.safeParse(body);
        if (!parsed.success) return invalid(parsed.error);
        return answer(await resolveFinding(db, params.id ?? '', parsed.data));
      },
    },
    {
      method: 'GET',
      path: '/reconciliation/runs',
      handle: async () => ({ status: 200, body: { runs: await lastRuns(db, 20) } }),
    },
    {
      method: 'POST',
      path: '/reconciliation/runs',
      handle: async ({ body }) => {
        const parsed = RunBody.safeParse(body ?? {});
        if (!parsed.success) return invalid(parsed.error);
        if (!(await reconciliationWorkerPolling(client, taskQueue)))
          return { status: 503, body: { error: 'no_reconciliation_worker', taskQueue } };
        const workflowId = `reconciliation-operator-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        const input: ReconciliationInput = { trigger: 'operator', ...(parsed.data.rules ? { rules: parsed.data.rules } : {}) };
        await client.workflow.start(RECONCILIATION_WORKFLOW, { taskQueue, workflowId, args: [input] });
        return { status: 202, body: { workflowId } };
      },
    },
  ];
}

/** The one role the findings queue answers. */
export const RECONCILIATION_ROLES = ['operator'] as const;

/**
 * Mounts the routes on a Fastify app behind an operator's bearer token (401 without or with a bad
 * one, 403 for another role); the check runs before the body is read, so a refused request changes
 * nothing.
 */
export function mountReconciliation(app: FastifyInstance, routes: ReconciliationRoute[], tokens: Tokens): void {
  const operatorOnly = requireRole(tokens, RECONCILIATION_ROLES);
  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.path,
      onRequest: operatorOnly,
      handler: async (req, reply) => {
        const query = new URLSearchParams(req.query as Record<string, string>);
        const params = req.params as Record<string, string>;
        const answer = await route.handle({ params, query, body: req.body ?? {} });
        return reply.code(answer.status).send(answer.body);
      },
    });
  }
}
