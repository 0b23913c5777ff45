import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import {
  RECONCILIATION_SCHEDULE_ID,
  RECONCILIATION_TASK_QUEUE,
  RECONCILIATION_WORKFLOW,
  type ReconciliationInput,
} from '../workflows/reconciliation-definitions';
import type { RunReport } from './findings';

/**
 * The Temporal Schedule that runs reconciliation every interval. Created at worker start, or
 * updated when the interval or task queue changed; a run still going when the next is due is
 * skipped (overlap SKIP), and runs missed while the server was down are not caught up one by one.
 */
export async function ensureReconciliationSchedule(
  client: Client,
  {
    intervalSeconds,
    taskQueue = RECONCILIATION_TASK_QUEUE,
    scheduleId = RECONCILIATION_SCHEDULE_ID,
  }: { intervalSeconds: number; taskQueue?: string; scheduleId?: string },
): Promise<'created' | 'updated'> {
  const spec = { intervals: [{ every: `${intervalSeconds}s` as const }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: RECONCILIATION_WORKFLOW,
    workflowId: scheduleId,
    taskQueue,
    args: [{ trigger: 'schedule' } satisfies ReconciliationInput],
    workflowExecutionTimeout: `${Math.max(intervalSeconds * 10, 600)}s` as const,
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${intervalSeconds}s` },
    });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((previous) => ({
      ...previous,
      spec,
      action,
      policies: { ...previous.policies, overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${intervalSeconds}s` },
    }));
    return 'updated';
  }
}

/** Is a reconciliation worker polling the queue? An on-demand run would wait forever otherwise. */
export async function reconciliationWorkerPolling(client: Client, taskQueue = RECONCILIATION_TASK_QUEUE): Promise<boolean> {
  const answer = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
  });
  // The server lists pollers for minutes after they stop; a live one polls again within its 60 s long poll.
  const recent = Date.now() - 90_000;
  return (answer.pollers ?? []).some((p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000 > recent);
}

/** An on-demand run (operator command, API, tests): starts it and waits for its report. */
export async function runReconciliation(
  client: Client,
  {
    taskQueue = RECONCILIATION_TASK_QUEUE,
    trigger = 'operator',
    rules,
    workflowId = `reconciliation-${trigger}-${new Date().toISOString().replace(/[:.]/g, '-')}-${Math.random().toString(36).slice(2, 6)}`,
  }: { taskQueue?: string; trigger?: ReconciliationInput['trigger']; rules?: string[]; workflowId?: string } = {},
): Promise<RunReport> {
  const input: ReconciliationInput = { trigger, ...(rules ? { rules } : {}) };
  return client.workflow.execute<(i: ReconciliationInput) => Promise<RunReport>>(RECONCILIATION_WORKFLOW, {
    taskQueue,
    workflowId,
    args: [input],
    workflowExecutionTimeout: '10m',
  });
}
