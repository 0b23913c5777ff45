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

/** An update the replaced run had accepted past the reset point, as the caller sent it. */
export interface AcceptedUpdate {
  updateId: string;
  name: string;
  input: temporal.api.update.v1.IInput;
}

/** What became of an update the reset took out of the history and sent to the new run again. */
export interface ResentUpdate {
  name: string;
  accepted: boolean;
  /** The new run's last refusal when it never accepted the update in time. */
  refusal?: string;
}

export interface SagaReset {
  runId: string;
  event: number;
  newRunId: string | undefined;
  updates: ResentUpdate[];
}

/** The updates accepted after `event`, in the order they were accepted. */
export function updatesAfter(history: History, event: number): AcceptedUpdate[] {
  return (history.events ?? [])
    .filter((e) => Number(e.eventId) > event)
    .flatMap((e) => {
      const request = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
      const name = request?.input?.name;
      return request?.meta?.updateId && name ? [{ updateId: request.meta.updateId, name, input: request.input! }] : [];
    });
}

/** How long a reset keeps offering a taken-out update to the new run before it reports a refusal. */
export const RESEND_WITHIN_MS = 60_000;

/** The completed workflow task that scheduled the first `activity`: where a run stands just before that step. */
export function taskThatScheduled(history: History, activity: string): number | undefined {
  const scheduled = history.events?.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity);
  const task = scheduled?.activityTaskScheduledEventAttributes?.workflowTaskCompletedEventId;
  return task ? Number(task) : undefined;
}

/**
 * Resets a workflow's current run to `point` (a named point, or a completed workflow task's event
 * id; see resetAt); undefined when its history has no such point.
 */
export async function resetToPoint(
  client: Client,
  workflowId: string,
  point: ResetPoint | number,
  reason: string,
): Promise<SagaReset | undefined> {
  const { runId } = await client.workflow.getHandle(workflowId).describe();
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const event =
    typeof point === 'number'
      ? point
      : point === 'last-workflow-task'
        ? lastWorkflowTask(history)
        : beforeMisorderedUpdate(history);
  if (event === undefined) return undefined;
  return resetAt(client, { workflowId, runId }, history, event, reason);
}

/**
 * Resets a run to its completed workflow task `event`, every signal after it reapplied, and sends
 * every update it had accepted after that point again, in order, each until the new run accepts
 * it. Updates are not left to the server's reapply: a reapplied update reaches the new run at its
 * first workflow task, before the run has replayed its way back to where the update was taken (a
 * dispatch accepted at the wait meets a saga still running the step before it), and a refused
 * update is dropped silently. Sent again with its own update id, an update is taken where the
 * caller's was, or reported refused.
 */
export async function resetAt(
  client: Client,
  workflowExecution: { workflowId: string; runId: string },
  history: History,
  event: number,
  reason: string,
  resendWithinMs = RESEND_WITHIN_MS,
): Promise<SagaReset | undefined> {
  const target = history.events?.find(
    (e) => Number(e.eventId) === event && e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  );
  if (!target?.eventId) return undefined;
  const newRunId = await resetRun(client, workflowExecution, target.eventId, reason);
  const updates: ResentUpdate[] = [];
  for (const update of updatesAfter(history, event))
    updates.push(await resend(client, { workflowId: workflowExecution.workflowId, runId: newRunId }, update, resendWithinMs));
  return { runId: workflowExecution.runId, event, newRunId, updates };
}

/**
 * Resets a run to the completed workflow task `eventId`, every signal and cancellation request
 * after it reapplied, updates not (resetAt sends those again).
 */
async function resetRun(
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
    resetReapplyExcludeTypes: [temporal.api.enums.v1.ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE],
  });
  return runId ?? undefined;
}

const { UpdateWorkflowExecutionLifecycleStage: Stage } = temporal.api.enums.v1;

async function resend(
  client: Client,
  workflowExecution: { workflowId: string; runId: string | undefined },
  update: AcceptedUpdate,
  withinMs: number,
): Promise<ResentUpdate> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const response = await client.workflowService.updateWorkflowExecution({
      namespace: client.options.namespace,
      workflowExecution,
      waitPolicy: { lifecycleStage: Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED },
      request: { meta: { updateId: update.updateId, identity: 'trapeze saga reset' }, input: update.input },
    });
    const refusal = response.outcome?.failure?.message ?? undefined;
    const stage = response.stage ?? Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_UNSPECIFIED;
    if (refusal === undefined && stage >= Stage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED)
      return { name: update.name, accepted: true };
    if (Date.now() >= deadline) return { name: update.name, accepted: false, refusal: refusal ?? 'not accepted in time' };
    // Refused now (the saga is still running the step before the wait) or not taken yet (no worker).
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
