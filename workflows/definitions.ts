import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Order } from '../domain/order';
import type { CompensationName, SagaStatus, StepName, TerminalStatus } from '../domain/saga';

/**
 * What code outside the workflow needs to know about the order saga: its task queue and type,
 * its search attributes, the messages it accepts and the progress it answers with. The saga's
 * vocabulary (steps, statuses, refusals, ids) lives in domain/.
 */
export const TASK_QUEUE = 'trapeze-sagas';
export const WORKFLOW_TYPE = 'orderFulfillment';

/** The saga's input is the validated order (see domain/order.ts). */
export type OrderSagaInput = Order;

/** How long a wait may last before it escalates (it keeps waiting afterwards). */
export const SLA_SECONDS = {
  paymentResult: 15 * 60,
  dispatch: 2 * 24 * 60 * 60,
} as const;

// Search attributes: registered on the server (infra/temporal.ts), kept current by the saga.
export const OrderIdAttribute = defineSearchAttributeKey('OrderId', 'KEYWORD');
export const CustomerIdAttribute = defineSearchAttributeKey('CustomerId', 'KEYWORD');
export const SagaStepAttribute = defineSearchAttributeKey('SagaStep', 'KEYWORD');
export const SagaStatusAttribute = defineSearchAttributeKey('SagaStatus', 'KEYWORD');

// --- the saga's progress (the `saga` query; not to be confused with the participants' SQL ledgers) ---

export interface StepRecord {
  name: StepName;
  state: 'running' | 'done' | 'failed';
  result?: unknown;
  error?: string;
}

export interface CompensationRecord {
  name: string;
  state: 'registered' | 'running' | 'retrying' | 'done';
  /** 1 for the first undo that ran, 2 for the next, …: undos run newest first. */
  sequence?: number;
  /** Rounds tried (each round is one activity call with its own retry policy). */
  rounds: number;
  result?: unknown;
  lastError?: string;
}

export interface Escalation {
  waitingFor: 'payment' | 'dispatch';
  slaSeconds: number;
  /** Release 1.2: whether the alert (OrderEscalated) has gone out; it retries on its own until it has. */
  alerted?: boolean;
}

/** How many times a saga answers the same message again before it refuses: its history stays bounded. */
export const MESSAGE_REPEATS = 10;

/** A run continues as new at this many history events, or earlier when the server suggests it. */
export const HISTORY_LIMIT = 10_000;

/**
 * The saga's second argument: empty for a new order; set when a run continues as new, carrying
 * everything the next run needs to go on where this one stopped (steps done, undos done and
 * pending, the messages received, patches seen).
 */
export interface SagaCarry {
  /** Continue as new at this many events (tests lower it); default HISTORY_LIMIT. */
  historyLimit?: number;
  resumed?: {
    progress: SagaProgress;
    webhooks: PaymentWebhook[];
    dispatch?: DispatchConfirmation;
    cancel?: CancelRequest;
    allocated: boolean;
    dispatched: boolean;
    /** Set once the saga is compensating or done: the next run only finishes the undos. */
    outcome?: { status: TerminalStatus; reason?: string };
    /** Workflow time (ms) the current wait began, so its SLA counts from then. */
    waitingSince?: number;
    repeats: number;
  };
}

export interface SagaProgress {
  /** 1 for the first run of this saga, 2 after it continued as new once, …. */
  run?: number;
  orderId: string;
  workflowId: string;
  status: SagaStatus;
  currentStep: StepName | CompensationName | null;
  steps: StepRecord[];
  compensations: CompensationRecord[];
  escalations: Escalation[];
  cancellation?: { reason: string };
  outcome?: { status: TerminalStatus; reason?: string };
  /** Patch ids this execution has taken (filled in by versioned code paths). */
  patches: string[];
}

export interface SagaResult {
  orderId: string;
  status: TerminalStatus;
  reason?: string;
  progress: SagaProgress;
}

// --- messages ---

export interface CancelRequest {
  reason: string;
}
export interface CancelAnswer {
  accepted: true;
  status: SagaStatus;
}
/** Customer cancellation: accepted until the parcel is dispatched; refused (validator) afterwards. */
export const cancelUpdate = defineUpdate<CancelAnswer, [CancelRequest]>('cancel');

export interface DispatchConfirmation {
  trackingNumber: string;
  carrier?: string;
}
/** The warehouse says the parcel left; refused when the order is not awaiting dispatch. */
export const confirmDispatchUpdate = defineUpdate<{ accepted: true }, [DispatchConfirmation]>('confirmDispatch');

export interface PaymentWebhook {
  authorizationId: string;
  approved: boolean;
  reason?: string;
}
/** The payment provider's asynchronous answer to an authorization (a webhook, fire-and-forget). */
export const paymentResultSignal = defineSignal<[PaymentWebhook]>('paymentResult');

/** Where the saga stands; the query keeps its name `saga` for the tools already calling it. */
export const sagaQuery = defineQuery<SagaProgress>('saga');
