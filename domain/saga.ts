/**
 * The order saga's vocabulary, shared by the workflow, the participants, the API and the tools:
 * its steps and their undos (also the last part of every idempotency key), its statuses and the
 * typed business refusals.
 */

/** The forward steps, in order. */
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

/** The undo of each step that has one. */
export const COMPENSATIONS = ['cancelOrder', 'voidAuthorization', 'releaseStock', 'cancelShipment', 'refundPayment'] as const;
export type CompensationName = (typeof COMPENSATIONS)[number];

/** Alerts raised when a wait outlives its SLA; keyed like steps so a retried alert is sent once. */
export const ESCALATIONS = ['escalate-payment', 'escalate-dispatch'] as const;
export type EscalationName = (typeof ESCALATIONS)[number];

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

export const TERMINAL_STATUSES = ['COMPLETED', 'REJECTED', 'CANCELLED', 'FAILED'] as const satisfies readonly SagaStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];
/** How an order ended without being fulfilled: what `cancelOrder` records. */
export type UnfulfilledStatus = Exclude<TerminalStatus, 'COMPLETED'>;

export const isTerminal = (status: SagaStatus): status is TerminalStatus =>
  (TERMINAL_STATUSES as readonly SagaStatus[]).includes(status);

/** The typed business refusals, as ApplicationFailure types (non-retryable). */
export const Refusal = {
  PaymentDeclined: 'PaymentDeclined',
  StockUnavailable: 'StockUnavailable',
  AddressUndeliverable: 'AddressUndeliverable',
  /** Release 1.1: fraud screening rejected the order before any money was held. */
  FraudSuspected: 'FraudSuspected',
} as const;
export type Refusal = (typeof Refusal)[keyof typeof Refusal];

/**
 * The failure type of a forward step that arrived after its undo had run (a late retry, a zombie
 * attempt after a timeout): the participant refused it and changed nothing, so for the saga the
 * step never took effect. Not a business refusal: the saga is already undoing (non-retryable).
 */
export const StepAlreadyUndone = 'StepAlreadyUndone';
