import { ApplicationFailure } from '@temporalio/activity';
import type { Cause } from './emit';

/**
 * What every participant operation receives from the saga to identify itself: the order, the
 * saga (workflow id), and the business idempotency key `order-<id>/<step>` it deduplicates on.
 */
export interface StepRef {
  orderId: string;
  workflowId: string;
  key: string;
}

export const causeOf = (ref: StepRef): Cause => ({ orderId: ref.orderId, correlationId: ref.workflowId, causationId: ref.key });

/**
 * A business refusal: recorded (state and event committed) and then reported to the saga as a
 * typed, non-retryable failure, so a retry would only repeat the same answer.
 */
export function refusal(type: string, message: string, details: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: [details] });
}

/**
 * Test seam: lets a test fail an operation after its transaction committed (a lost reply), or
 * hold it there, to prove that retries and restarts never apply an effect twice.
 */
export interface Faults {
  afterCommit(operation: string, key: string): void | Promise<void>;
}

export const noFaults: Faults = { afterCommit: () => undefined };
