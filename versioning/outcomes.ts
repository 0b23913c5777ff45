import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { onBuildQuery } from './worker-deployments';
import type { BuildOutcomes } from './canary';

/**
 * Reads one build's business outcomes from visibility: the saga's own search attributes
 * (SagaStatus) plus the deployment version Temporal records on every execution. No extra store:
 * what the UI shows an operator is what the verdict counts.
 */
export interface OutcomeQuery {
  deploymentName: string;
  buildId: string;
  workflowType: string;
  /** Only sagas started after this moment (the ramp's start), so both builds share a window. */
  since: Date;
  /** An open saga older than this is stuck, whatever it waits for. */
  stuckAfterMs: number;
  now?: Date;
}

/**
 * SagaStatus (workflows/definitions.ts) of a closed saga: COMPLETED delivered the order, FAILED
 * means a step kept failing technically (a failure of the build, even though it compensated), and
 * REJECTED / CANCELLED are compensations the business asked for.
 */
export const DELIVERED_STATUSES = new Set(['COMPLETED']);
export const FAILED_STATUSES = new Set(['FAILED']);

function sagaStatus(info: WorkflowExecutionInfo): string | undefined {
  const value = info.searchAttributes?.SagaStatus;
  return Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;
}

export async function buildOutcomes(client: Client, q: OutcomeQuery): Promise<BuildOutcomes> {
  const now = q.now ?? new Date();
  const query = `WorkflowType = '${q.workflowType}' AND ${onBuildQuery(q.deploymentName, q.buildId)} AND StartTime >= '${q.since.toISOString()}'`;
  const out: BuildOutcomes = {
    buildId: q.buildId,
    completed: 0,
    compensated: 0,
    failed: 0,
    running: 0,
    stuck: 0,
    durationsMs: [],
  };
  for await (const info of client.workflow.list({ query })) {
    switch (info.status.name) {
      case 'RUNNING':
        out.running++;
        // ESCALATED: the saga outlived a wait's SLA and an operator has been called.
        if (now.getTime() - info.startTime.getTime() > q.stuckAfterMs || sagaStatus(info) === 'ESCALATED') out.stuck++;
        continue;
      case 'FAILED':
      case 'TIMED_OUT':
      case 'TERMINATED':
        out.failed++;
        break;
      case 'COMPLETED':
        if (DELIVERED_STATUSES.has(sagaStatus(info) ?? '')) out.completed++;
        else if (FAILED_STATUSES.has(sagaStatus(info) ?? '')) out.failed++;
        else out.compensated++;
        break;
      default:
        // CANCELLED (a customer cancel routed as workflow cancellation) and CONTINUED_AS_NEW end no order well.
        out.compensated++;
    }
    if (info.closeTime) out.durationsMs.push(info.closeTime.getTime() - info.startTime.getTime());
  }
  // A saga whose workflow task keeps failing (e.g. nondeterminism) is stuck however young it is
  // (those already counted as old or escalated are left out).
  const problems = await client.workflow.count(
    `${query} AND ExecutionStatus = 'Running' AND TemporalReportedProblems IS NOT NULL AND SagaStatus != 'ESCALATED' AND StartTime >= '${new Date(now.getTime() - q.stuckAfterMs).toISOString()}'`,
  );
  out.stuck += problems.count;
  return out;
}
