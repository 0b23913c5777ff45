import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Order } from '../domain/order';

/**
 * Everything outside code needs to know about the order saga: its task queue, ids, steps,
 * statuses, the messages it accepts and the ledger it answers with. Clients, workers, operators'
 * tools and versioning tests import these names instead of repeating strings.
 */
export const TASK_QUEUE = 'trapeze-sagas';
export const WORKFLOW_TYPE = 'orderFulfillment';
export const workflowIdFor = (orderId: string): string => `order-${orderId}`;

/** The saga's input is the validated order (see api/order.ts). */
export type OrderSagaInput = Order;

/** The forward steps, in order; each name is also the last part of its idempotency key. */
export const STEPS = [
  'submitOrder',
  /** Release 1.1, behind patched('fraud-screening'). */
  'screenOrder',
  'authorizePayment',
  'awaitPaymentResult',
  'reserveStock',
  'allocateShipment',
  'confirmOrder',
  'capturePayment',
  'awaitDispatch',
  'completeOrder',
] as const;
export type StepName = (typeof STEPS)[number];

/** The undo of each step that has one; also idempotency-key suffixes. */
export const COMPENSATIONS = ['cancelOrder', 'voidAuthorization', 'releaseStock', 'cancelShipment', 'refundPayment'] as const;
export type CompensationName = (typeof COMPENSATIONS)[number];

/** `order-<id>/<step>`: the business key every participant deduplicates on (never the attempt). */
export const idempotencyKey = (workflowId: string, step: string): string => `${workflowId}/${step}`;

export const SagaStatus = {
  RUNNING: 'RUNNING',
  AWAITING_PAYMENT: 'AWAITING_PAYMENT',
  AWAITING_DISPATCH: 'AWAITING_DISPATCH',
  /** A wait outlived its SLA; the saga still waits, an operator has been alerted (OrderEscalated). */
  ESCALATED: 'ESCALATED',
  COMPENSATING: 'COMPENSATING',
  COMPLETED: 'COMPLETED',
  /** A participant refused (payment declined, stock unavailable, address undeliverable). */
  REJECTED: 'REJECTED',
  /** The customer (or an operator) cancelled before dispatch. */
  CANCELLED: 'CANCELLED',
  /** A step kept failing technically until its retry policy gave up. */
  FAILED: 'FAILED',
} as const;
export type SagaStatus = (typeof SagaStatus)[keyof typeof SagaStatus];
export const TERMINAL_STATUSES: readonly SagaStatus[] = ['COMPLETED', 'REJECTED', 'CANCELLED', 'FAILED'];
export type TerminalStatus = 'COMPLETED' | 'REJECTED' | 'CANCELLED' | 'FAILED';

/** The typed business refusals, as ApplicationFailure types (non-retryable). */
export const Refusal = {
  PaymentDeclined: 'PaymentDeclined',
  StockUnavailable: 'StockUnavailable',
  AddressUndeliverable: 'AddressUndeliverable',
  /** Release 1.1: fraud screening rejected the order before any money was held. */
  FraudSuspected: 'FraudSuspected',
} as const;
export type Refusal = (typeof Refusal)[keyof typeof Refusal];

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

export interface Money {
  amount: number;
  currency: string;
}

/** The order total: the sum of the lines, in the order's one currency. */
export function orderTotal(order: Pick<Order, 'lines'>): Money {
  const currency = order.lines[0]?.unitPrice.currency ?? 'EUR';
  return { amount: order.lines.reduce((sum, l) => sum + l.quantity * l.unitPrice.amount, 0), currency };
}

// --- the saga ledger (the `saga` query) ---

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
}

export interface SagaLedger {
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
  ledger: SagaLedger;
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

export const sagaQuery = defineQuery<SagaLedger>('saga');
