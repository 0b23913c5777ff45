// Over 250 lines on purpose: the list of capture scenarios, one entry per path of the saga; a list reads best whole.
import { temporal } from '@temporalio/proto';
import type { OrderClient, OrderRequest } from '../api/client';
import type { SagaStatus } from '../domain/saga';
import type { SagaProgress } from '../workflows/definitions';
import { SLA_SECONDS } from '../workflows/definitions';

/**
 * The saga scenarios whose histories make up the replay corpus: every outcome, and a saga left
 * open at every wait point (payment webhook, dispatch, escalated), because open sagas are the ones
 * a deployment meets mid-flight. `clock: 'skipping'` scenarios outlive an SLA and run on the
 * time-skipping test server (two days pass in a moment); all others run on a real dev server.
 */
export interface ScenarioContext {
  orders: OrderClient;
  orderId: string;
  /** Lets durable time pass: real waiting on a dev server, a skip on the time-skipping server. */
  sleep(ms: number): Promise<void>;
  /** An operator's workflow cancellation (`npx trapeze saga compensate`), not the customer's update. */
  cancelWorkflow(): Promise<void>;
  /** Resolves once the held operation of `fault` has committed and waits; `release` lets it answer. */
  held(): Promise<void>;
  release(): void;
  /** Resolves once the saga has finished a workflow task after the last event of this type. */
  handled(eventType: temporal.api.enums.v1.EventType): Promise<void>;
  /** Resolves once the history holds an event of this type (e.g. a command the saga issued). */
  recorded(eventType: temporal.api.enums.v1.EventType): Promise<void>;
  /**
   * An operator's reset of the saga's current run (open or closed) to the workflow task that
   * scheduled `activity`, as `trapeze saga reset --event` does: signals after that point are
   * reapplied, updates sent again until the new run takes them. The new run is the one exported.
   * Real clock only: the time-skipping test server answers ResetWorkflowExecution with UNIMPLEMENTED.
   */
  reset(activity: string): Promise<void>;
}

/**
 * What a participant does wrong for this order: an operation that is down (every attempt fails),
 * fails its first n attempts and then works, or is held after committing until the scenario releases it.
 */
export interface Fault {
  operation: string;
  fails: 'always' | number | 'held';
}

export interface Scenario {
  name: string;
  clock: 'real' | 'skipping';
  /** The first release whose code has this path (e.g. fraud screening from 1.1). */
  since?: string;
  /** The last release whose code takes this path (a later release changed the outcome). */
  until?: string;
  /** The order, apart from its id. */
  order: Partial<OrderRequest>;
  /** A technical fault the participants raise for this order. */
  fault?: Fault;
  /** Drives the saga to the point its history is exported. */
  drive(ctx: ScenarioContext): Promise<void>;
  /** Continue as new at this many history events (the saga's `historyLimit`), so a capture hands over within a few steps. */
  historyLimit?: number;
  /** Exported while running (the saga waits at a wait point); otherwise after it closed with `ends`. */
  open?: SagaStatus;
  ends?: SagaStatus;
}

export async function statusReached(ctx: ScenarioContext, status: SagaStatus, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  for (;;) {
    last = await ctx.orders.getOrder(ctx.orderId).then(
      (l) => l.status as string,
      () => last,
    );
    if (last === status) return;
    if (Date.now() > deadline) throw new Error(`order ${ctx.orderId} did not reach ${status} (last seen ${last ?? 'nothing'})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const accepted = async (answer: Promise<{ accepted: boolean; reason?: string }>, what: string) => {
  const a = await answer;
  if (!a.accepted) throw new Error(`${what} refused: ${a.reason ?? ''}`);
};

const dispatch = (ctx: ScenarioContext) =>
  accepted(ctx.orders.confirmDispatch(ctx.orderId, { trackingNumber: `TRK-${ctx.orderId}`, carrier: 'DHL' }), 'dispatch');
const cancel = (ctx: ScenarioContext) => accepted(ctx.orders.cancelOrder(ctx.orderId, 'customer changed their mind'), 'cancel');
const webhook = (ctx: ScenarioContext, approved: boolean) =>
  ctx.orders.reportPaymentResult(ctx.orderId, {
    authorizationId: `auth-${ctx.orderId}`,
    approved,
    ...(approved ? {} : { reason: 'insufficient funds' }),
  });
const paymentSla = (SLA_SECONDS.paymentResult + 60) * 1000;
const dispatchSla = (SLA_SECONDS.dispatch + 60) * 1000;

const progressReached = async (ctx: ScenarioContext, what: string, test: (p: SagaProgress) => boolean, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const progress = await ctx.orders.getOrder(ctx.orderId).catch(() => undefined);
    if (progress && test(progress)) return;
    if (Date.now() > deadline) throw new Error(`order ${ctx.orderId}: ${what} not reached`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};
/** An undo has failed at least `rounds` rounds and waits on its durable timer for the next. */
const undoRetrying = (ctx: ScenarioContext, rounds: number) =>
  progressReached(ctx, `an undo retrying after ${rounds} rounds`, (p) =>
    p.compensations.some((c) => c.state === 'retrying' && c.rounds >= rounds),
  );

/** The saga runs its `run`-th execution (it continued as new run − 1 times) and is at `status`. */
const inRun = (ctx: ScenarioContext, run: number, status: SagaStatus) =>
  progressReached(ctx, `run ${run} at ${status}`, (p) => (p.run ?? 1) >= run && p.status === status);
const foreignWebhook = (ctx: ScenarioContext, n: number) =>
  ctx.orders.reportPaymentResult(ctx.orderId, {
    authorizationId: `auth-someone-else-${n}`,
    approved: false,
    reason: 'not yours',
  });
/** The warehouse retries one dispatch: answered again up to the bound (MESSAGE_REPEATS), refused after. */
const dispatchFlood = async (ctx: ScenarioContext) => {
  const again = { trackingNumber: `TRK-${ctx.orderId}`, carrier: 'DHL' };
  for (let n = 0; n < 13; n++) await ctx.orders.confirmDispatch(ctx.orderId, again).catch(() => undefined);
};
const { EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED } = temporal.api.enums.v1.EventType;
// History limits that hand over at a chosen point: a saga reaches the payment wait at ~36 events
// and the dispatch wait at ~55 (1.2 histories); its first failed undo round ends at ~77.
const handOverAtPayment = 30;
const handOverAtDispatch = 40;
const handOverWhileUndoing = 60;

const asyncPayment = { payment: { methodToken: 'tok_async' } } as const;
const captureEarly = { payment: { methodToken: 'tok_visa', capture: 'at-confirmation' } } as const;

export const scenarios: Scenario[] = [
  {
    name: 'completed',
    clock: 'real',
    order: {},
    ends: 'COMPLETED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await dispatch(ctx);
    },
  },
  {
    name: 'completed-after-webhook-capture-at-confirmation',
    clock: 'real',
    ends: 'COMPLETED',
    order: { payment: { methodToken: 'tok_async', capture: 'at-confirmation' } },
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_PAYMENT');
      await webhook(ctx, true);
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await dispatch(ctx);
    },
  },
  {
    name: 'rejected-payment-declined',
    clock: 'real',
    order: { payment: { methodToken: 'tok_decline' } },
    ends: 'REJECTED',
    drive: async () => undefined,
  },
  {
    name: 'rejected-payment-declined-by-webhook',
    clock: 'real',
    order: asyncPayment,
    ends: 'REJECTED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_PAYMENT');
      await webhook(ctx, false);
    },
  },
  {
    name: 'rejected-stock-shortage',
    clock: 'real',
    ends: 'REJECTED',
    order: { lines: [{ sku: 'grinder', quantity: 5, unitPrice: { amount: 9900, currency: 'EUR' } }] },
    drive: async () => undefined,
  },
  {
    name: 'rejected-address-undeliverable',
    clock: 'real',
    ends: 'REJECTED',
    order: { shippingAddress: { name: 'Penguin', line1: '1 Ice Shelf', city: 'McMurdo', postalCode: '0000', country: 'AQ' } },
    drive: async () => undefined,
  },
  {
    name: 'rejected-fraud-suspected',
    clock: 'real',
    since: '1.1',
    ends: 'REJECTED',
    order: { payment: { methodToken: 'tok_fraud' } },
    drive: async () => undefined,
  },
  {
    name: 'failed-stock-service-down',
    clock: 'real',
    order: {},
    fault: { operation: 'reserveStock', fails: 'always' },
    ends: 'FAILED',
    drive: async () => undefined,
  },
  {
    name: 'cancelled-awaiting-payment',
    clock: 'real',
    order: asyncPayment,
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_PAYMENT');
      await cancel(ctx);
    },
  },
  {
    name: 'cancelled-awaiting-dispatch',
    clock: 'real',
    order: {},
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await cancel(ctx);
    },
  },
  {
    name: 'cancelled-after-capture-refunded',
    clock: 'real',
    order: captureEarly,
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await cancel(ctx);
    },
  },
  {
    name: 'open-awaiting-payment',
    clock: 'real',
    order: asyncPayment,
    open: 'AWAITING_PAYMENT',
    drive: (ctx) => statusReached(ctx, 'AWAITING_PAYMENT'),
  },
  {
    name: 'open-awaiting-dispatch',
    clock: 'real',
    order: {},
    open: 'AWAITING_DISPATCH',
    drive: (ctx) => statusReached(ctx, 'AWAITING_DISPATCH'),
  },
  {
    name: 'open-awaiting-dispatch-captured',
    clock: 'real',
    order: captureEarly,
    open: 'AWAITING_DISPATCH',
    drive: (ctx) => statusReached(ctx, 'AWAITING_DISPATCH'),
  },
  {
    name: 'open-awaiting-dispatch-after-webhook',
    clock: 'real',
    order: asyncPayment,
    open: 'AWAITING_DISPATCH',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_PAYMENT');
      await webhook(ctx, true);
      await statusReached(ctx, 'AWAITING_DISPATCH');
    },
  },
  {
    name: 'escalated-twice-then-completed',
    clock: 'skipping',
    order: asyncPayment,
    ends: 'COMPLETED',
    drive: async (ctx) => {
      await ctx.sleep(paymentSla);
      await statusReached(ctx, 'ESCALATED');
      await webhook(ctx, true);
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await ctx.sleep(dispatchSla);
      await statusReached(ctx, 'ESCALATED');
      await dispatch(ctx);
    },
  },
  {
    name: 'escalated-payment-then-cancelled',
    clock: 'skipping',
    order: asyncPayment,
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await ctx.sleep(paymentSla);
      await statusReached(ctx, 'ESCALATED');
      await cancel(ctx);
    },
  },
  {
    name: 'open-escalated-awaiting-payment',
    clock: 'skipping',
    order: asyncPayment,
    open: 'ESCALATED',
    drive: async (ctx) => {
      await ctx.sleep(paymentSla);
      await statusReached(ctx, 'ESCALATED');
    },
  },
  {
    name: 'open-escalated-awaiting-dispatch',
    clock: 'skipping',
    order: {},
    open: 'ESCALATED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await ctx.sleep(dispatchSla);
      await statusReached(ctx, 'ESCALATED');
    },
  },
  // --- operator cancellation (workflow cancellation): the undos run in a non-cancellable scope ---
  {
    name: 'operator-cancelled-awaiting-payment',
    clock: 'real',
    order: asyncPayment,
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_PAYMENT');
      await ctx.cancelWorkflow();
    },
  },
  {
    name: 'operator-cancelled-awaiting-dispatch',
    clock: 'real',
    order: captureEarly,
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await ctx.cancelWorkflow();
    },
  },
  {
    name: 'operator-cancelled-during-reserve-stock',
    clock: 'real',
    order: {},
    fault: { operation: 'reserveStock', fails: 'held' },
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await ctx.held();
      await ctx.cancelWorkflow();
      ctx.release();
    },
  },
  {
    name: 'operator-cancelled-after-dispatch-fails-without-undo',
    clock: 'real',
    until: '1.1',
    order: {},
    fault: { operation: 'capturePayment', fails: 'held' },
    ends: 'FAILED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await dispatch(ctx);
      await ctx.held();
      await ctx.cancelWorkflow();
      ctx.release();
    },
  },
  {
    // From 1.2 (finish-after-dispatch) the forward steps past an accepted dispatch finish anyway.
    name: 'operator-cancelled-after-dispatch-completes',
    clock: 'real',
    since: '1.2',
    order: {},
    fault: { operation: 'capturePayment', fails: 'held' },
    ends: 'COMPLETED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await dispatch(ctx);
      await ctx.held();
      await ctx.cancelWorkflow();
      ctx.release();
    },
  },
  {
    name: 'open-operator-cancelled-undo-retrying',
    clock: 'real',
    order: {},
    fault: { operation: 'releaseStock', fails: 1_000 },
    open: 'COMPENSATING',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await ctx.cancelWorkflow();
      await undoRetrying(ctx, 2);
    },
  },
  // --- the customer cancels while a step runs: the step finishes, the next one is refused ---
  {
    name: 'cancelled-during-reserve-stock',
    clock: 'real',
    order: {},
    fault: { operation: 'reserveStock', fails: 'held' },
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await ctx.held();
      await cancel(ctx);
      ctx.release();
    },
  },
  // --- an undo that fails several rounds (durable pauses between them) and then succeeds ---
  {
    name: 'cancelled-undo-failed-two-rounds-then-succeeded',
    clock: 'real',
    order: {},
    // Each round is one activity call with three attempts: six failures are two failed rounds.
    fault: { operation: 'releaseStock', fails: 6 },
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await cancel(ctx);
    },
  },
  {
    name: 'open-cancelled-undo-retrying',
    clock: 'real',
    order: {},
    fault: { operation: 'releaseStock', fails: 1_000 },
    open: 'COMPENSATING',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await cancel(ctx);
      await undoRetrying(ctx, 2);
    },
  },
  // --- participants down before any undo but the first, and at the capture that registered a refund ---
  {
    name: 'failed-order-service-down-at-submission',
    clock: 'real',
    order: {},
    fault: { operation: 'submitOrder', fails: 'always' },
    ends: 'FAILED',
    drive: async () => undefined,
  },
  {
    name: 'failed-capture-at-confirmation-refunded',
    clock: 'real',
    order: captureEarly,
    fault: { operation: 'capturePayment', fails: 'always' },
    ends: 'FAILED',
    drive: async () => undefined,
  },
  // --- repeated messages: a webhook delivered twice, a dispatch the warehouse retried ---
  {
    name: 'completed-webhook-twice-dispatch-retried',
    clock: 'real',
    order: {
      ...asyncPayment,
      shippingAddress: {
        name: 'Ada Lovelace',
        line1: '12 St James Sq',
        line2: 'Flat 2',
        city: 'London',
        postalCode: 'SW1Y 4JH',
        country: 'DE',
      },
    },
    ends: 'COMPLETED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_PAYMENT');
      await Promise.all([webhook(ctx, true), webhook(ctx, true)]);
      await statusReached(ctx, 'AWAITING_DISPATCH');
      const again = { trackingNumber: `TRK-${ctx.orderId}` };
      await Promise.all([ctx.orders.confirmDispatch(ctx.orderId, again), ctx.orders.confirmDispatch(ctx.orderId, again)]);
    },
  },

  // --- release 1.2's continue-as-new: a small history limit hands over at each wait and while undoing ---
  {
    name: 'continued-as-new-awaiting-dispatch-then-completed',
    clock: 'real',
    since: '1.2',
    historyLimit: handOverAtDispatch,
    order: {},
    ends: 'COMPLETED',
    drive: async (ctx) => {
      await inRun(ctx, 2, 'AWAITING_DISPATCH');
      await dispatch(ctx);
    },
  },
  {
    name: 'open-continued-as-new-awaiting-dispatch',
    clock: 'real',
    since: '1.2',
    historyLimit: handOverAtDispatch,
    order: captureEarly,
    open: 'AWAITING_DISPATCH',
    drive: (ctx) => inRun(ctx, 2, 'AWAITING_DISPATCH'),
  },
  {
    name: 'continued-as-new-awaiting-payment-then-cancelled',
    clock: 'real',
    since: '1.2',
    historyLimit: handOverAtPayment,
    order: asyncPayment,
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await inRun(ctx, 2, 'AWAITING_PAYMENT');
      await cancel(ctx);
    },
  },
  {
    name: 'continued-as-new-twice-then-completed',
    clock: 'real',
    since: '1.2',
    historyLimit: handOverAtPayment,
    order: asyncPayment,
    ends: 'COMPLETED',
    drive: async (ctx) => {
      await inRun(ctx, 2, 'AWAITING_PAYMENT');
      await webhook(ctx, true);
      await inRun(ctx, 3, 'AWAITING_DISPATCH');
      await dispatch(ctx);
    },
  },
  {
    name: 'open-continued-as-new-awaiting-payment',
    clock: 'real',
    since: '1.2',
    historyLimit: handOverAtPayment,
    order: asyncPayment,
    open: 'AWAITING_PAYMENT',
    drive: (ctx) => inRun(ctx, 2, 'AWAITING_PAYMENT'),
  },
  {
    name: 'cancelled-undo-continued-as-new-then-succeeded',
    clock: 'real',
    since: '1.2',
    historyLimit: handOverWhileUndoing,
    order: {},
    fault: { operation: 'releaseStock', fails: 6 },
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await cancel(ctx);
    },
  },
  {
    name: 'operator-cancelled-undo-continued-as-new-then-succeeded',
    clock: 'real',
    since: '1.2',
    historyLimit: handOverWhileUndoing,
    order: captureEarly,
    fault: { operation: 'releaseStock', fails: 6 },
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await ctx.cancelWorkflow();
    },
  },
  {
    name: 'open-undo-retrying-continued-as-new',
    clock: 'real',
    since: '1.2',
    historyLimit: handOverWhileUndoing,
    order: {},
    fault: { operation: 'releaseStock', fails: 1_000 },
    open: 'COMPENSATING',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await cancel(ctx);
      await progressReached(
        ctx,
        'run 2 retrying an undo',
        (p) => (p.run ?? 1) >= 2 && p.compensations.some((c) => c.state === 'retrying'),
      );
    },
  },
  {
    name: 'escalated-continued-as-new-then-completed',
    clock: 'skipping',
    since: '1.2',
    historyLimit: handOverWhileUndoing,
    order: {},
    ends: 'COMPLETED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await ctx.sleep(dispatchSla);
      await inRun(ctx, 2, 'ESCALATED');
      await dispatch(ctx);
    },
  },
  // --- release 1.2's payment-webhook-bound: another authorization's answer arrives first and is ignored ---
  {
    name: 'completed-after-foreign-webhook',
    clock: 'real',
    since: '1.2',
    order: asyncPayment,
    ends: 'COMPLETED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_PAYMENT');
      await foreignWebhook(ctx, 1);
      await ctx.handled(EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
      await webhook(ctx, true);
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await dispatch(ctx);
    },
  },
  {
    name: 'open-awaiting-payment-after-foreign-webhook',
    clock: 'real',
    since: '1.2',
    order: asyncPayment,
    open: 'AWAITING_PAYMENT',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_PAYMENT');
      await foreignWebhook(ctx, 1);
      await ctx.handled(EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    },
  },
  // --- release 1.2's message bounds: more webhooks and dispatch repeats than the saga answers ---
  {
    name: 'operator-cancelled-after-webhook-flood',
    clock: 'real',
    since: '1.2',
    order: asyncPayment,
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_PAYMENT');
      for (let n = 1; n <= 12; n++) await foreignWebhook(ctx, n);
      await ctx.handled(EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
      await webhook(ctx, true); // past the bound: never remembered, so the saga keeps waiting
      await ctx.handled(EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
      await ctx.cancelWorkflow();
    },
  },
  {
    name: 'completed-after-dispatch-flood',
    clock: 'real',
    since: '1.2',
    order: {},
    ends: 'COMPLETED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await dispatchFlood(ctx);
    },
  },
  {
    name: 'open-capturing-after-dispatch-flood',
    clock: 'real',
    since: '1.2',
    order: {},
    fault: { operation: 'capturePayment', fails: 'held' },
    open: 'RUNNING',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await dispatch(ctx);
      await ctx.held();
      await dispatchFlood(ctx);
    },
  },
  {
    name: 'cancelled-twice-at-once',
    clock: 'real',
    since: '1.2',
    order: asyncPayment,
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_PAYMENT');
      await Promise.all([cancel(ctx), ctx.orders.cancelOrder(ctx.orderId, 'asked twice').catch(() => undefined)]);
    },
  },
  // --- release 1.3: an operator resets the saga to the task that scheduled the screening, before any
  // money or goods were held; the run the reset makes is the one kept. Reset runs that compensate are
  // captured from 1.4 (undo-all-when-compensating): 1.3's undo-all-after-reset decided by the run id,
  // and the SDK's replayer gives a replayed run the original run's id, so those histories fail replay ---
  {
    // The reset run takes every step again (each answers as before) and waits for the dispatch.
    name: 'open-reset-awaiting-dispatch',
    clock: 'real',
    since: '1.3',
    order: {},
    open: 'AWAITING_DISPATCH',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await ctx.reset('screenOrder');
      await statusReached(ctx, 'AWAITING_DISPATCH');
    },
  },
  {
    name: 'reset-awaiting-dispatch-then-completed',
    clock: 'real',
    since: '1.3',
    order: {},
    ends: 'COMPLETED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await ctx.reset('screenOrder');
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await dispatch(ctx);
    },
  },
  // --- release 1.4's undo-all-when-compensating, where a reset run matters most: the run it replaced
  // had authorized, reserved and allocated; the reset run, stopped by the cancellation sent again,
  // has registered only the order's undo and runs them all ---
  {
    name: 'reset-after-cancellation-undid-all',
    clock: 'real',
    since: '1.4',
    order: {},
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await cancel(ctx);
      await ctx.orders.orderOutcome(ctx.orderId);
      await ctx.reset('screenOrder');
    },
  },
  {
    name: 'reset-after-cancellation-undid-all-refunded',
    clock: 'real',
    since: '1.4',
    order: captureEarly,
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await cancel(ctx);
      await ctx.orders.orderOutcome(ctx.orderId);
      await ctx.reset('screenOrder');
    },
  },
  {
    // Reset while an undo keeps failing: the reset run undoes everything and is stuck at the same undo.
    name: 'open-reset-while-undoing-undo-retrying',
    clock: 'real',
    since: '1.4',
    order: {},
    fault: { operation: 'releaseStock', fails: 1_000 },
    open: 'COMPENSATING',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await cancel(ctx);
      await undoRetrying(ctx, 1);
      await ctx.reset('screenOrder');
      await undoRetrying(ctx, 2);
    },
  },
  {
    // Cancelled after the reset run registered every undo again: none is added twice.
    name: 'reset-awaiting-dispatch-then-cancelled',
    clock: 'real',
    since: '1.4',
    order: {},
    ends: 'CANCELLED',
    drive: async (ctx) => {
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await ctx.reset('screenOrder');
      await statusReached(ctx, 'AWAITING_DISPATCH');
      await cancel(ctx);
    },
  },
  // --- release 1.2's undo-waits-for-step: the undo waits for the step in flight when the cancellation arrives ---
  {
    name: 'operator-cancelled-while-reserve-stock-in-flight',
    clock: 'real',
    since: '1.2',
    order: {},
    fault: { operation: 'reserveStock', fails: 'held' },
    // CANCELLED on a quiet machine; under heavy load the held step can outlive its start-to-close
    // timeout first and the saga ends FAILED. Either history shows the undo waiting for the step.
    drive: async (ctx) => {
      await ctx.held();
      await ctx.cancelWorkflow();
      // Release the step only after the saga asked to cancel it: its undo must wait for it.
      await ctx.recorded(EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED);
      ctx.release();
    },
  },
];
