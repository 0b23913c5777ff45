import { ActivityFailure, ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { rootMessage } from '../domain/failure';
import { Refusal, type UnfulfilledStatus } from '../domain/saga';
import type { StepRecord } from './definitions';
import type { Outcome } from './state';

/** The customer cancelled: not an error of any step, so it is told apart from failures. */
export class CustomerCancellation extends Error {}

/** How a saga that did not complete ended: a refusal, a cancellation, or a step that kept failing. */
export function classify(err: unknown, lastStep: StepRecord | undefined): Required<Outcome> {
  if (err instanceof CustomerCancellation) return { status: 'CANCELLED', reason: err.message };
  if (isCancellation(err)) return { status: 'CANCELLED', reason: 'cancelled by an operator (workflow cancellation)' };
  if (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    Object.values<string>(Refusal).includes(err.cause.type ?? '')
  ) {
    return { status: 'REJECTED', reason: err.cause.message };
  }
  return { status: 'FAILED', reason: `${lastStep?.name ?? 'a step'} failed: ${rootMessage(err)}` };
}

/** What `cancelOrder` records: read when the undo runs, after `classify`, so the order says why it ended. */
export function unfulfilled(outcome: Outcome | undefined): { outcome: UnfulfilledStatus; reason: string } {
  const status = outcome?.status;
  return {
    outcome: status === 'REJECTED' || status === 'CANCELLED' ? status : 'FAILED',
    reason: outcome?.reason ?? 'unknown',
  };
}
