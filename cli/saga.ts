import { WorkflowNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { createOrderClient } from '../api/client';
import { SagaStatus } from '../domain/saga';
import { workflowIdFor } from '../domain/ids';
import { SagaStatusAttribute, SagaStepAttribute, WORKFLOW_TYPE, type SagaProgress } from '../workflows/definitions';
import { RESEND_WITHIN_MS, resetToPoint, RESET_POINTS, type ResetPoint } from '../versioning/reset-points';
import { act, CliError, EXIT, positiveInt, usageError, type Context } from './context';

/**
 * `trapeze saga …`: the operator's view of order sagas, through the typed client and Temporal's
 * visibility (the SagaStatus and SagaStep search attributes the saga keeps current).
 */
const STATUSES = Object.values(SagaStatus) as string[];
/** Values go into a visibility query between quotes: allow only what ids and step names use. */
const queryValue = (name: string, value: string) => {
  if (!/^[A-Za-z0-9_.:-]+$/.test(value)) throw usageError(`${name} may hold letters, digits, _ . : - only`);
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

export function sagaCommands(program: Command, ctx: Context): void {
  const saga = program.command('saga').description('show, list and steer order sagas');
  const orders = async () => createOrderClient(await ctx.client(), { taskQueue: ctx.taskQueue });
  const handle = async (orderId: string) => (await ctx.client()).workflow.getHandle(workflowIdFor(orderId));
  /** An unknown order is exit 4 wherever a command meets it. */
  const known = async <T>(orderId: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new CliError(`unknown order: ${orderId}`, EXIT.notFound);
      throw err;
    }
  };
  const answer = (orderId: string, a: { accepted: boolean; reason?: string; status?: string }, done: string) => {
    ctx.emit({ orderId, ...a }, () => [a.accepted ? done : `refused: ${a.reason ?? ''}`]);
    return a.accepted ? EXIT.ok : EXIT.hold;
  };

  saga
    .command('show')
    .description("the saga's progress (ledger query), workflow status and search attributes")
    .argument('<orderId>')
    .action(
      act(ctx, (orderId: string) =>
        known(orderId, async () => {
          const described = await (await handle(orderId)).describe();
          const attributes = {
            SagaStatus: described.typedSearchAttributes.get(SagaStatusAttribute) ?? null,
            SagaStep: described.typedSearchAttributes.get(SagaStepAttribute) ?? null,
          };
          const attributesLine = `SagaStatus ${attributes.SagaStatus ?? '-'}, SagaStep ${attributes.SagaStep ?? '-'}`;
          let progress: SagaProgress;
          try {
            progress = await (await orders()).getOrder(orderId);
          } catch (err) {
            // The progress is a query a saga worker answers; visibility still knows where it stands.
            throw new CliError(
              `order ${orderId}: workflow ${described.status.name}, ${attributesLine}; progress unavailable (${err instanceof Error ? err.message : String(err)}): is a saga worker polling ${described.taskQueue}? (npm start)`,
              EXIT.unavailable,
            );
          }
          const closed = described.status.name === 'RUNNING' ? undefined : described.status.name;
          ctx.emit(
            { workflowStatus: described.status.name, runId: described.runId, searchAttributes: attributes, progress },
            () => [...formatProgress(progress, closed), `search attributes: ${attributesLine}`],
          );
        }),
      ),
    );

  saga
    .command('list')
    .description('sagas by SagaStatus and SagaStep (visibility)')
    .option('--status <status>', `one of ${STATUSES.join(', ')}`)
    .option('--step <step>', 'the step a saga is at, e.g. awaitDispatch')
    .option('--task-queue <queue>', 'only sagas of this task queue')
    .option('--limit <n>', 'at most this many', positiveInt('--limit'), 50)
    .action(
      act(ctx, async (o: { status?: string; step?: string; taskQueue?: string; limit: number }) => {
        const clauses = [`WorkflowType = '${WORKFLOW_TYPE}'`];
        if (o.status) {
          if (!STATUSES.includes(o.status)) throw usageError(`--status is one of ${STATUSES.join(', ')}`);
          clauses.push(`SagaStatus = ${queryValue('--status', o.status)}`);
        }
        if (o.step) clauses.push(`SagaStep = ${queryValue('--step', o.step)}`);
        if (o.taskQueue) clauses.push(`TaskQueue = ${queryValue('--task-queue', o.taskQueue)}`);
        const rows: Array<{
          orderId: string;
          sagaStatus: string | null;
          step: string | null;
          workflowStatus: string;
          started: string;
        }> = [];
        for await (const w of (await ctx.client()).workflow.list({ query: clauses.join(' AND ') })) {
          rows.push({
            orderId: w.workflowId.replace(/^order-/, ''),
            sagaStatus: w.typedSearchAttributes.get(SagaStatusAttribute) ?? null,
            step: w.typedSearchAttributes.get(SagaStepAttribute) ?? null,
            workflowStatus: w.status.name,
            started: w.startTime.toISOString(),
          });
          if (rows.length >= o.limit) break;
        }
        ctx.emit({ sagas: rows, truncated: rows.length >= o.limit }, () => [
          ['ORDER', 'SAGA STATUS', 'STEP', 'WORKFLOW', 'STARTED'].join('\t'),
          ...rows.map((r) => [r.orderId, r.sagaStatus ?? '-', r.step ?? '-', r.workflowStatus, r.started].join('\t')),
          `${rows.length} saga(s)${rows.length >= o.limit ? ` (first ${o.limit}; --limit for more)` : ''}`,
        ]);
      }),
    );

  saga
    .command('cancel')
    .description("the customer's cancel: accepted until dispatch, refused (exit 2) after")
    .argument('<orderId>')
    .argument('<reason...>', 'why, in words')
    .action(
      act(ctx, async (orderId: string, reason: string[]) => {
        const text = reason.join(' ').trim();
        if (!text) throw usageError('cancel needs a reason');
        const a = await known(orderId, async () => (await orders()).cancelOrder(orderId, text));
        return answer(
          orderId,
          a,
          `cancellation accepted (saga was ${a.accepted ? a.status : '?'}); the undos run now — \`trapeze saga show ${orderId}\` follows them`,
        );
      }),
    );

  saga
    .command('dispatch')
    .description("the warehouse's confirmation of dispatch (refused, exit 2, when the saga does not wait for it)")
    .argument('<orderId>')
    .argument('<trackingNumber>')
    .option('--carrier <carrier>')
    .action(
      act(ctx, async (orderId: string, trackingNumber: string, o: { carrier?: string }) => {
        const a = await known(orderId, async () =>
          (await orders()).confirmDispatch(orderId, { trackingNumber, ...(o.carrier ? { carrier: o.carrier } : {}) }),
        );
        return answer(orderId, a, 'dispatch confirmed');
      }),
    );

  saga
    .command('compensate')
    .description('operator cancellation: the saga runs its undos, newest first, and ends CANCELLED')
    .argument('<orderId>')
    .action(
      act(ctx, (orderId: string) =>
        known(orderId, async () => {
          // Before dispatch the saga runs its registered undos; after an accepted dispatch the parcel
          // is gone and the saga finishes its forward steps instead.
          const progress = await (await orders()).getOrder(orderId).catch(() => undefined);
          const pastDispatchWait =
            progress?.steps.some((s) => s.name === 'awaitDispatch') === true &&
            !['AWAITING_DISPATCH', 'ESCALATED'].includes(progress.status);
          const dispatched = pastDispatchWait && !progress.outcome;
          await (await handle(orderId)).cancel();
          ctx.emit({ orderId, requested: true, dispatched }, () => [
            dispatched
              ? `cancellation requested, but the parcel was dispatched: the saga finishes capture and completion and undoes nothing — \`trapeze saga show ${orderId}\` follows it`
              : `cancellation requested; the saga waits for the step in flight, runs its undos and ends CANCELLED — \`trapeze saga show ${orderId}\` follows it`,
          ]);
        }),
      ),
    );

  saga
    .command('reset')
    .description(
      'a new run from an earlier workflow task: signals after it reapplied, updates (a dispatch, a cancellation) sent ' +
        'again in order until the new run accepts them. --to last-workflow-task (after a nondeterminism fix is deployed), ' +
        '--to before-misordered-update (a saga stuck on a nondeterminism error after an update: see the README), ' +
        'or --event <id> (any completed workflow task, as in the UI)',
    )
    .argument('<orderId>')
    .option('--to <point>', `where to reset to: ${RESET_POINTS.join(' | ')}`)
    .option('--event <id>', 'the WorkflowTaskCompleted event to reset to', positiveInt('--event'))
    .option('--reason <reason>', 'recorded on the reset', 'operator reset (trapeze saga reset)')
    .action(
      act(ctx, (orderId: string, o: { to?: string; event?: number; reason: string }) => {
        if ((o.to === undefined) === (o.event === undefined))
          throw usageError(`reset needs --to ${RESET_POINTS.join(' | ')} or --event <id>`);
        if (o.to !== undefined && !(RESET_POINTS as readonly string[]).includes(o.to))
          throw usageError(`reset needs --to ${RESET_POINTS.join(' | ')}`);
        return known(orderId, async () => {
          const client = await ctx.client();
          const workflowId = workflowIdFor(orderId);
          const point = o.to ?? `event ${o.event}`;
          const reset = await resetToPoint(client, workflowId, (o.to as ResetPoint | undefined) ?? o.event!, o.reason);
          if (!reset)
            throw new CliError(`${workflowId} has no ${point} point to reset to (a completed workflow task)`, EXIT.hold);
          const { runId, event, newRunId, updates } = reset;
          const refused = updates.filter((u) => !u.accepted);
          ctx.emit({ orderId, workflowId, runId, event, newRunId, updates }, () => [
            `reset ${workflowId} run ${runId} to event ${event}: new run ${newRunId ?? '?'}`,
            ...updates.map((u) =>
              u.accepted
                ? `update ${u.name} sent again: accepted by the new run`
                : `update ${u.name} sent again for ${RESEND_WITHIN_MS / 1000} s: refused (${u.refusal}); check \`trapeze saga show ${orderId}\``,
            ),
          ]);
          // The saga does not hold what the replaced run had accepted: not a success.
          return refused.length > 0 ? EXIT.hold : EXIT.ok;
        });
      }),
    );
}
