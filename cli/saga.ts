import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createOrderClient } from '../api/client';
import { connectClient } from '../api/connect';
import { readConfig } from '../platform/config';
import { SagaStatusAttribute, SagaStepAttribute, WORKFLOW_TYPE, type SagaProgress } from '../workflows/definitions';
import { SagaStatus } from '../domain/saga';
import { workflowIdFor } from '../domain/ids';

/**
 * `npm run saga -- <command>`: the operator's view of order sagas, through the typed client and
 * Temporal's visibility (the SagaStatus and SagaStep search attributes the saga keeps current).
 *
 *   show <orderId> [--json]                         the saga's progress and where it stands
 *   list [--status S] [--step X] [--task-queue Q] [--limit N]   sagas by status and step
 *   cancel <orderId> <reason…>                      the customer's cancel (refused after dispatch)
 *   dispatch <orderId> <trackingNumber> [--carrier C]   the warehouse's confirmation
 *   compensate <orderId>                            operator cancellation: the saga runs its undos
 *   reset <orderId> --to last-workflow-task [--reason R]   replays the saga from its last workflow task
 *
 * Exit codes: 0 done, 1 error or usage, 2 refused by the saga (not cancellable, not dispatchable),
 * 3 unknown order.
 */
export const USAGE = `usage: npm run saga -- <command>
  show <orderId> [--json]
  list [--status S] [--step X] [--task-queue Q] [--limit N]
  cancel <orderId> <reason…>
  dispatch <orderId> <trackingNumber> [--carrier C]
  compensate <orderId>
  reset <orderId> --to last-workflow-task [--reason R]`;

export interface SagaCliContext {
  client: Client;
  taskQueue?: string;
  print: (line: string) => void;
}

class UsageError extends Error {}

const STATUSES = Object.values(SagaStatus) as string[];
/** Values go into a visibility query between quotes: allow only what ids and step names use. */
const queryValue = (name: string, value: string) => {
  if (!/^[A-Za-z0-9_.:-]+$/.test(value)) throw new UsageError(`${name} may hold letters, digits, _ . : - only`);
  return `'${value}'`;
};

function formatProgress(l: SagaProgress, closed: string | undefined): string[] {
  const lines = [
    `order ${l.orderId} (workflow ${l.workflowId})`,
    `status ${l.status}${closed ? ` (workflow ${closed})` : ''}; current step ${l.currentStep ?? '-'}`,
  ];
  if (l.outcome) lines.push(`outcome ${l.outcome.status}${l.outcome.reason ? `: ${l.outcome.reason}` : ''}`);
  if (l.cancellation) lines.push(`cancellation requested: ${l.cancellation.reason}`);
  lines.push('steps:');
  for (const s of l.steps) lines.push(`  ${s.state.padEnd(8)} ${s.name}${s.error ? ` — ${s.error}` : ''}`);
  if (l.compensations.length) {
    lines.push('compensations (undos run newest first):');
    for (const c of l.compensations) {
      lines.push(
        `  ${c.state.padEnd(10)} ${c.name}${c.sequence ? ` #${c.sequence}` : ''}${c.rounds ? `, ${c.rounds} round(s)` : ''}${c.lastError ? ` — ${c.lastError}` : ''}`,
      );
    }
  }
  for (const e of l.escalations) lines.push(`escalated: waited for ${e.waitingFor} past ${e.slaSeconds} s`);
  if (l.patches.length) lines.push(`patches: ${l.patches.join(', ')}`);
  return lines;
}

/** Runs one command; returns the exit code. The process entrypoint below only wires it up. */
export async function runSagaCommand(argv: string[], { client, taskQueue, print }: SagaCliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      status: { type: 'string' },
      step: { type: 'string' },
      'task-queue': { type: 'string' },
      limit: { type: 'string', default: '50' },
      carrier: { type: 'string' },
      to: { type: 'string' },
      reason: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  const orders = createOrderClient(client, taskQueue ? { taskQueue } : {});
  const needOrderId = () => {
    const id = rest[0];
    if (!id) throw new UsageError(`${command} needs an order id`);
    return id;
  };
  const handle = (orderId: string) => client.workflow.getHandle(workflowIdFor(orderId));

  try {
    switch (values.help ? undefined : command) {
      case 'show': {
        const orderId = needOrderId();
        const described = await handle(orderId).describe();
        const attributes = `SagaStatus ${described.typedSearchAttributes.get(SagaStatusAttribute) ?? '-'}, SagaStep ${described.typedSearchAttributes.get(SagaStepAttribute) ?? '-'}`;
        let progress: SagaProgress;
        try {
          progress = await orders.getOrder(orderId);
        } catch (err) {
          // The progress is a query a saga worker answers; visibility still knows where it stands.
          print(`order ${orderId} (workflow ${workflowIdFor(orderId)}): workflow ${described.status.name}, ${attributes}`);
          print(
            `progress unavailable: ${err instanceof Error ? err.message : String(err)} (is a saga worker polling ${described.taskQueue}?)`,
          );
          return 1;
        }
        if (values.json) {
          print(JSON.stringify({ workflowStatus: described.status.name, runId: described.runId, progress }, null, 2));
        } else {
          const closed = described.status.name === 'RUNNING' ? undefined : described.status.name;
          for (const line of formatProgress(progress, closed)) print(line);
          print(`search attributes: ${attributes}`);
        }
        return 0;
      }
      case 'list': {
        const clauses = [`WorkflowType = '${WORKFLOW_TYPE}'`];
        if (values.status) {
          if (!STATUSES.includes(values.status)) throw new UsageError(`--status is one of ${STATUSES.join(', ')}`);
          clauses.push(`SagaStatus = ${queryValue('--status', values.status)}`);
        }
        if (values.step) clauses.push(`SagaStep = ${queryValue('--step', values.step)}`);
        if (values['task-queue']) clauses.push(`TaskQueue = ${queryValue('--task-queue', values['task-queue'])}`);
        const limit = Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit is a positive integer');
        let n = 0;
        print(['ORDER', 'SAGA STATUS', 'STEP', 'WORKFLOW', 'STARTED'].join('\t'));
        for await (const w of client.workflow.list({ query: clauses.join(' AND ') })) {
          const orderId = w.workflowId.replace(/^order-/, '');
          const status = w.typedSearchAttributes.get(SagaStatusAttribute) ?? '-';
          const step = w.typedSearchAttributes.get(SagaStepAttribute) ?? '-';
          print([orderId, status, step, w.status.name, w.startTime.toISOString()].join('\t'));
          if (++n >= limit) break;
        }
        print(`${n} saga(s)${n >= limit ? ` (first ${limit}; --limit for more)` : ''}`);
        return 0;
      }
      case 'cancel': {
        const orderId = needOrderId();
        const reason = (values.reason ?? rest.slice(1).join(' ')).trim();
        if (!reason) throw new UsageError('cancel needs a reason');
        const answer = await orders.cancelOrder(orderId, reason);
        if (!answer.accepted) {
          print(`refused: ${answer.reason}`);
          return 2;
        }
        print(`cancellation accepted (saga was ${answer.status}); the undos run now — \`show ${orderId}\` follows them`);
        return 0;
      }
      case 'dispatch': {
        const orderId = needOrderId();
        const trackingNumber = rest[1];
        if (!trackingNumber) throw new UsageError('dispatch needs a tracking number');
        const answer = await orders.confirmDispatch(orderId, {
          trackingNumber,
          ...(values.carrier ? { carrier: values.carrier } : {}),
        });
        if (!answer.accepted) {
          print(`refused: ${answer.reason}`);
          return 2;
        }
        print('dispatch confirmed');
        return 0;
      }
      case 'compensate': {
        const orderId = needOrderId();
        // A workflow cancellation: before dispatch the saga runs its registered undos, newest first;
        // after an accepted dispatch the parcel is gone and the saga finishes its forward steps instead.
        const progress = await orders.getOrder(orderId).catch(() => undefined);
        const pastDispatchWait =
          progress?.steps.some((s) => s.name === 'awaitDispatch') === true &&
          !['AWAITING_DISPATCH', 'ESCALATED'].includes(progress.status);
        const dispatched = pastDispatchWait && !progress.outcome;
        await handle(orderId).cancel();
        print(
          dispatched
            ? `cancellation requested, but the parcel was dispatched: the saga finishes capture and completion and undoes nothing — \`show ${orderId}\` follows it`
            : `cancellation requested; the saga waits for the step in flight, runs its undos and ends CANCELLED — \`show ${orderId}\` follows it`,
        );
        return 0;
      }
      case 'reset': {
        const orderId = needOrderId();
        if (values.to !== 'last-workflow-task') throw new UsageError('reset needs --to last-workflow-task');
        const h = handle(orderId);
        const { runId } = await h.describe();
        // The last completed workflow task: the run restarts from there, dropping what came after
        // (a stuck or failing task, e.g. after a nondeterminism fix is deployed).
        const history = await client.workflow.getHandle(workflowIdFor(orderId), runId).fetchHistory();
        const last = [...(history.events ?? [])].reverse().find((e) => e.workflowTaskCompletedEventAttributes);
        if (!last?.eventId) throw new Error(`${workflowIdFor(orderId)} has no completed workflow task to reset to`);
        const reason = values.reason ?? 'operator reset to the last workflow task (npm run saga reset)';
        const { runId: newRunId } = await client.workflowService.resetWorkflowExecution({
          namespace: client.options.namespace,
          workflowExecution: { workflowId: workflowIdFor(orderId), runId },
          workflowTaskFinishEventId: last.eventId,
          requestId: randomUUID(),
          reason,
        });
        print(`reset ${workflowIdFor(orderId)} run ${runId} to event ${String(last.eventId)}: new run ${newRunId ?? '?'}`);
        return 0;
      }
      default:
        print(USAGE);
        return values.help ? 0 : 1;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      print(`${err.message}\n${USAGE}`);
      return 1;
    }
    if (err instanceof WorkflowNotFoundError) {
      print(`unknown order: ${rest[0] ?? ''}`);
      return 3;
    }
    throw err;
  }
}

if (require.main === module) {
  const config = readConfig();
  (async () => {
    const client = await connectClient({
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      keyring: config.payloads.keyring,
    });
    try {
      return await runSagaCommand(process.argv.slice(2), {
        client,
        taskQueue: config.saga.taskQueue,
        print: (line) => console.log(line),
      });
    } finally {
      await client.connection.close();
    }
  })().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
