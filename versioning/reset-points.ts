import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { randomUUID } from 'node:crypto';

type History = temporal.api.history.v1.IHistory;
const { EventType } = temporal.api.enums.v1;

/** Where `trapeze saga reset --to <point>` restarts a saga's run. */
export const RESET_POINTS = ['last-workflow-task', 'before-misordered-update'] as const;
export type ResetPoint = (typeof RESET_POINTS)[number];

const completedTasks = (history: History) =>
  (history.events ?? [])
    .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
    .map((e) => Number(e.eventId));

/** The last completed workflow task: after a fix is deployed, the run goes on from there. */
export function lastWorkflowTask(history: History): number | undefined {
  return completedTasks(history).at(-1);
}

/**
 * The completed workflow task before the first update the SDK cannot replay as it was recorded.
 *
 * Why: two defects of the SDK (core and lang 1.24.0) strand a saga that got an update, both seen
 * only after evictions (worker restarts) while the saga was being queried:
 * - *Misordered*: the update reached the worker in the same workflow task as a step's result; the
 *   SDK ran the step's continuation first and accepted the update in a second activation, but on
 *   replay it hands both over in one activation, the update first.
 * - *Lost flag*: the OpenTelemetry interceptors yield more under the SDK flag
 *   OpenTelemetryInterceptorsInstrumentsAllMethods (6), which the SDK records in the history when a
 *   workflow task first uses it; when a query used it first, it is recorded nowhere, and the
 *   replay of the update's task, without those yields, completes the update before the timer
 *   cancellation it had recorded after it.
 * Either way the history never replays again, whatever the code, so resetting to its last task
 * does not help; resetting to the task before the stranded update does, and the update is
 * reapplied by the reset.
 */
export function beforeMisorderedUpdate(history: History): number | undefined {
  let task: number | undefined;
  let previousTask: number | undefined;
  let commandsOfTask = 0;
  // Flag 5 is recorded by every task run with the interceptors; flag 6 once one used it.
  let traced = false;
  let flagged = false;
  for (const e of history.events ?? []) {
    if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) {
      [previousTask, task, commandsOfTask] = [task, Number(e.eventId), 0];
      const flags = e.workflowTaskCompletedEventAttributes?.sdkMetadata?.langUsedFlags ?? [];
      traced ||= flags.includes(TRACED_FLAG);
      flagged ||= flags.includes(INSTRUMENTS_ALL_FLAG);
    } else if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) {
      if (commandsOfTask > 0 || (traced && !flagged)) return previousTask;
    } else if (task !== undefined && commandTask(e) === task) {
      commandsOfTask += 1;
    }
  }
  return undefined;
}

/** SdkFlags.OpenTelemetryInterceporsAvoidsExtraYields and OpenTelemetryInterceptorsInstrumentsAllMethods. */
const TRACED_FLAG = 5;
const INSTRUMENTS_ALL_FLAG = 6;

/** The workflow task whose command wrote this event (an activity scheduled, a marker, an upsert…). */
function commandTask(e: temporal.api.history.v1.IHistoryEvent): number | undefined {
  for (const [key, value] of Object.entries(e)) {
    if (key.endsWith('Attributes') && value && typeof value === 'object' && 'workflowTaskCompletedEventId' in value) {
      const id = Number((value as { workflowTaskCompletedEventId?: unknown }).workflowTaskCompletedEventId);
      if (id > 0) return id;
    }
  }
  return undefined;
}

export interface SagaReset {
  runId: string;
  event: number;
  newRunId: string | undefined;
  /** Updates the old run had accepted past the reset point, by name: reapplied, but each validated again. */
  reappliedUpdates: string[];
}

/** The names of the updates accepted after `event`, in order. */
export function updatesAfter(history: History, event: number): string[] {
  return (history.events ?? [])
    .filter((e) => Number(e.eventId) > event)
    .flatMap((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ?? []);
}

/**
 * Resets a workflow's current run to `point`, every signal and update after it reapplied;
 * undefined when its history has no such point.
 */
export async function resetToPoint(
  client: Client,
  workflowId: string,
  point: ResetPoint,
  reason: string,
): Promise<SagaReset | undefined> {
  const { runId } = await client.workflow.getHandle(workflowId).describe();
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const event = point === 'last-workflow-task' ? lastWorkflowTask(history) : beforeMisorderedUpdate(history);
  const target = history.events?.find((e) => Number(e.eventId) === event);
  if (event === undefined || !target?.eventId) return undefined;
  const newRunId = await resetRun(client, { workflowId, runId }, target.eventId, reason);
  return { runId, event, newRunId, reappliedUpdates: updatesAfter(history, event) };
}

/** Resets a run to the completed workflow task `eventId`, every signal and update after it reapplied. */
export async function resetRun(
  client: Client,
  workflowExecution: { workflowId: string; runId: string },
  eventId: NonNullable<temporal.api.history.v1.IHistoryEvent['eventId']>,
  reason: string,
): Promise<string | undefined> {
  const { runId } = await client.workflowService.resetWorkflowExecution({
    namespace: client.options.namespace,
    workflowExecution,
    workflowTaskFinishEventId: eventId,
    requestId: randomUUID(),
    reason,
    // Said, not left to the default, which the API documents as signals only: a dispatch or
    // cancellation accepted as an update after the reset point must not be dropped.
    resetReapplyType: temporal.api.enums.v1.ResetReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE,
  });
  return runId ?? undefined;
}
