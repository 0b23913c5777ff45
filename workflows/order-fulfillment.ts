import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Participants } from '../activities';
import { Compensations, rootMessage } from './undos';
import {
  cancelUpdate,
  confirmDispatchUpdate,
  CustomerIdAttribute,
  idempotencyKey,
  orderTotal,
  OrderIdAttribute,
  paymentResultSignal,
  Refusal,
  SagaStatus,
  SagaStatusAttribute,
  SagaStepAttribute,
  sagaQuery,
  SLA_SECONDS,
  TERMINAL_STATUSES,
  type CancelRequest,
  type CompensationName,
  type DispatchConfirmation,
  type Money,
  type OrderSagaInput,
  type PaymentWebhook,
  type SagaLedger,
  type SagaResult,
  type StepName,
  type StepRecord,
  type TerminalStatus,
} from './definitions';

// Each participant has its own timeouts and retry policy. Business refusals are non-retryable;
// technical failures retry with backoff, and only an exhausted policy makes the saga compensate.
const backoff = { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s' } as const;
const ordersOptions: ActivityOptions = { startToCloseTimeout: '5s', retry: { ...backoff, maximumAttempts: 5 } };
const paymentsOptions: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { ...backoff, maximumAttempts: 5, nonRetryableErrorTypes: [Refusal.PaymentDeclined] },
};
const inventoryOptions: ActivityOptions = {
  startToCloseTimeout: '5s',
  retry: { ...backoff, maximumAttempts: 5, nonRetryableErrorTypes: [Refusal.StockUnavailable] },
};
const fraudOptions: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { ...backoff, maximumAttempts: 5, nonRetryableErrorTypes: [Refusal.FraudSuspected] },
};
const shippingOptions: ActivityOptions = {
  startToCloseTimeout: '10s',
  retry: { ...backoff, maximumAttempts: 5, nonRetryableErrorTypes: [Refusal.AddressUndeliverable] },
};
// Past dispatch there is no undo: the parcel is gone, so capture and completion retry until they succeed.
const afterDispatchOptions: ActivityOptions = { startToCloseTimeout: '10s', retry: { ...backoff, maximumInterval: '1m' } };
// One round of an undo; the compensation helper repeats rounds until it succeeds.
const undoOptions: ActivityOptions = { startToCloseTimeout: '10s', retry: { ...backoff, maximumAttempts: 3 } };

const orders = proxyActivities<Participants['orders']>(ordersOptions);
const payments = proxyActivities<Participants['payments']>(paymentsOptions);
const inventory = proxyActivities<Participants['inventory']>(inventoryOptions);
const shipping = proxyActivities<Participants['shipping']>(shippingOptions);
const fraud = proxyActivities<Participants['fraud']>(fraudOptions);

/** Calls an activity with its step's options and a one-line summary for the UI. */
function call<A, R>(
  fn: { executeWithOptions(options: ActivityOptions, args: [A]): Promise<R> },
  options: ActivityOptions,
  summary: string,
  arg: A,
): Promise<R> {
  return fn.executeWithOptions({ ...options, summary }, [arg]);
}

const money = (m: Money) => `${m.currency} ${(m.amount / 100).toFixed(2)}`;

/** The customer cancelled: not an error of any step, so it is told apart from failures. */
class CustomerCancellation extends Error {}

/**
 * The order saga: submit → authorize (→ await the payment webhook) → reserve stock → allocate
 * shipment → confirm → (capture) → await dispatch → capture → complete. Each undo is registered
 * before its step; a refusal, a cancellation or an exhausted retry policy runs them in reverse.
 */
export async function orderFulfillment(order: OrderSagaInput): Promise<SagaResult> {
  const { workflowId } = workflowInfo();
  const ref = (step: StepName | CompensationName | string) => ({
    orderId: order.orderId,
    workflowId,
    key: idempotencyKey(workflowId, step),
  });
  const key = (step: StepName) => idempotencyKey(workflowId, step);
  const total = orderTotal(order);

  const ledger: SagaLedger = {
    orderId: order.orderId,
    workflowId,
    status: SagaStatus.RUNNING,
    currentStep: null,
    steps: [],
    compensations: [],
    escalations: [],
    patches: [],
  };
  let webhook: PaymentWebhook | undefined;
  let dispatch: DispatchConfirmation | undefined;
  let cancel: CancelRequest | undefined;
  let allocated = false;
  let dispatched = false;
  let outcome: { status: TerminalStatus; reason?: string } | undefined;

  // --- operator visibility: search attributes and the UI's current details ---
  let shown = { step: '', status: '' };
  const publish = () => {
    const step = ledger.currentStep ?? 'none';
    if (shown.step !== step || shown.status !== ledger.status) {
      upsertSearchAttributes([
        { key: SagaStepAttribute, value: step },
        { key: SagaStatusAttribute, value: ledger.status },
      ]);
      shown = { step, status: ledger.status };
    }
    setCurrentDetails(details());
  };
  const details = (): string => {
    const stuck = saga.stuck;
    if (stuck)
      return `**Compensation stuck**: \`${stuck.name}\` has failed ${stuck.rounds} round(s), retrying. Last error: ${stuck.lastError ?? 'unknown'}`;
    switch (ledger.status) {
      case 'AWAITING_PAYMENT':
        return `**Waiting for the payment provider** (webhook) since ${new Date().toISOString()}; escalates after ${SLA_SECONDS.paymentResult} s. Cancellable.`;
      case 'AWAITING_DISPATCH':
        return `**Waiting for the warehouse to dispatch** since ${new Date().toISOString()}; escalates after ${SLA_SECONDS.dispatch} s. Cancellable until dispatch.`;
      case 'ESCALATED':
        return `**Escalated**: waited longer than the SLA for ${ledger.escalations.at(-1)?.waitingFor ?? 'an answer'}; still waiting. Cancel or answer it.`;
      default:
        return outcome
          ? `**${outcome.status}**${outcome.reason ? `: ${outcome.reason}` : ''}`
          : `Step \`${ledger.currentStep ?? 'starting'}\` (${ledger.status})`;
    }
  };
  const setStatus = (status: SagaStatus) => {
    ledger.status = status;
    publish();
  };

  const saga = new Compensations({
    onChange: (records) => {
      ledger.compensations = records.map((r) => ({ ...r }));
      const running = records.find((r) => r.state === 'running' || r.state === 'retrying');
      if (running && ledger.status === SagaStatus.COMPENSATING) ledger.currentStep = running.name as CompensationName;
      if (ledger.status === SagaStatus.COMPENSATING) publish();
    },
  });

  // --- messages ---
  const closedToCancel = (): string | undefined => {
    if (TERMINAL_STATUSES.includes(ledger.status)) return `the order is already ${ledger.status}`;
    if (ledger.status === SagaStatus.COMPENSATING) return 'the order is already being undone';
    if (dispatch) return 'the parcel has been dispatched';
    return undefined;
  };
  setHandler(sagaQuery, () => ledger);
  setHandler(paymentResultSignal, (w) => {
    // The provider may deliver a webhook twice; the first answer counts.
    webhook ??= w;
  });
  setHandler(
    cancelUpdate,
    (req) => {
      cancel ??= req;
      ledger.cancellation ??= { reason: cancel.reason };
      return { accepted: true, status: ledger.status };
    },
    {
      validator: (req) => {
        if (!req.reason?.trim()) throw new Error('a cancellation needs a reason');
        const closed = closedToCancel();
        if (closed) throw new Error(`cannot cancel: ${closed}`);
      },
    },
  );
  setHandler(
    confirmDispatchUpdate,
    (c) => {
      dispatch ??= c;
      return { accepted: true };
    },
    {
      validator: (c) => {
        if (!c.trackingNumber?.trim()) throw new Error('a dispatch needs a tracking number');
        if (dispatch) {
          if (dispatch.trackingNumber === c.trackingNumber) return; // the warehouse retried
          throw new Error(`already dispatched with tracking number ${dispatch.trackingNumber}`);
        }
        if (cancel || ledger.status === SagaStatus.COMPENSATING || TERMINAL_STATUSES.includes(ledger.status)) {
          throw new Error(`cannot dispatch: the order is ${outcome?.status ?? (cancel ? 'being cancelled' : ledger.status)}`);
        }
        if (!allocated) throw new Error('cannot dispatch: no shipment allocated yet');
      },
    },
  );

  // --- steps and waits ---
  async function step<T>(name: StepName, run: () => Promise<T>): Promise<T> {
    if (cancel) throw new CustomerCancellation(cancel.reason);
    const record: StepRecord = { name, state: 'running' };
    ledger.steps.push(record);
    ledger.currentStep = name;
    publish();
    try {
      record.result = await run();
      record.state = 'done';
      return record.result as T;
    } catch (err) {
      record.state = 'failed';
      record.error = rootMessage(err);
      throw err;
    }
  }

  /** Waits for `arrived`, or a cancellation; past the SLA it escalates once and keeps waiting. */
  async function wait(waitingFor: 'payment' | 'dispatch', arrived: () => boolean): Promise<void> {
    const slaSeconds = waitingFor === 'payment' ? SLA_SECONDS.paymentResult : SLA_SECONDS.dispatch;
    setStatus(waitingFor === 'payment' ? SagaStatus.AWAITING_PAYMENT : SagaStatus.AWAITING_DISPATCH);
    const settled = () => arrived() || cancel !== undefined;
    if (!(await condition(settled, slaSeconds * 1000))) {
      ledger.escalations.push({ waitingFor, slaSeconds });
      await call(orders.escalateOrder, ordersOptions, `escalate: no ${waitingFor} after ${slaSeconds} s`, {
        ...ref(`escalate-${waitingFor}`),
        waitingFor,
        slaSeconds,
      });
      setStatus(SagaStatus.ESCALATED);
      await condition(settled);
    }
    if (cancel) throw new CustomerCancellation(cancel.reason);
    setStatus(SagaStatus.RUNNING);
  }

  const capture = (options: ActivityOptions) =>
    step('capturePayment', () =>
      call(payments.capturePayment, options, `capture ${money(total)}`, {
        ...ref('capturePayment'),
        authorizeKey: key('authorizePayment'),
      }),
    );

  upsertSearchAttributes([
    { key: OrderIdAttribute, value: order.orderId },
    { key: CustomerIdAttribute, value: order.customer.id },
  ]);
  publish();

  try {
    // Read when the undo runs (after `classify`), so the order records why it ended.
    saga.add('cancelOrder', () => {
      const ended = unfulfilled();
      return call(orders.cancelOrder, undoOptions, `cancel order: ${ended.outcome}`, { ...ref('cancelOrder'), ...ended });
    });
    await step('submitOrder', () =>
      call(orders.submitOrder, ordersOptions, `submit order ${order.orderId}: ${order.lines.length} line(s), ${money(total)}`, {
        ...ref('submitOrder'),
        customerId: order.customer.id,
        lines: order.lines,
        total,
      }),
    );

    // Release 1.1: screen for fraud before any money is held. A saga that passed this point on 1.0
    // replays without the marker and skips the step; every saga reaching it on 1.1 is screened.
    if (patched('fraud-screening')) {
      ledger.patches.push('fraud-screening');
      await step('screenOrder', () =>
        call(fraud.screenOrder, fraudOptions, `screen order ${order.orderId} for fraud`, {
          ...ref('screenOrder'),
          customerId: order.customer.id,
          total,
          methodToken: order.payment.methodToken,
          shippingCountry: order.shippingAddress.country,
        }),
      );
    }

    saga.add('voidAuthorization', () =>
      call(payments.voidAuthorization, undoOptions, `void authorization of ${money(total)}`, {
        ...ref('voidAuthorization'),
        authorizeKey: key('authorizePayment'),
      }),
    );
    const authorization = await step('authorizePayment', () =>
      call(payments.authorizePayment, paymentsOptions, `authorize ${money(total)}`, {
        ...ref('authorizePayment'),
        amount: total,
        methodToken: order.payment.methodToken,
      }),
    );
    if (authorization.status === 'pending') {
      await step('awaitPaymentResult', async () => {
        await wait('payment', () => webhook !== undefined);
        const answer = webhook as PaymentWebhook;
        return call(
          payments.recordPaymentResult,
          paymentsOptions,
          `payment webhook: ${answer.approved ? 'approved' : 'declined'}`,
          {
            ...ref('awaitPaymentResult'),
            authorizationId: authorization.authorizationId,
            approved: answer.approved,
            ...(answer.reason ? { reason: answer.reason } : {}),
          },
        );
      });
    }

    saga.add('releaseStock', () =>
      call(inventory.releaseStock, undoOptions, 'release reserved stock', {
        ...ref('releaseStock'),
        reserveKey: key('reserveStock'),
      }),
    );
    await step('reserveStock', () =>
      call(inventory.reserveStock, inventoryOptions, `reserve ${order.lines.map((l) => `${l.quantity}× ${l.sku}`).join(', ')}`, {
        ...ref('reserveStock'),
        lines: order.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })),
      }),
    );

    saga.add('cancelShipment', () =>
      call(shipping.cancelShipment, undoOptions, 'cancel shipment allocation', {
        ...ref('cancelShipment'),
        allocateKey: key('allocateShipment'),
      }),
    );
    const { shippingAddress: a } = order;
    await step('allocateShipment', () =>
      call(shipping.allocateShipment, shippingOptions, `allocate shipment to ${a.country}`, {
        ...ref('allocateShipment'),
        recipient: {
          name: a.name,
          address: {
            line1: a.line1,
            ...(a.line2 ? { line2: a.line2 } : {}),
            city: a.city,
            postalCode: a.postalCode,
            country: a.country,
          },
        },
      }),
    );
    allocated = true;

    await step('confirmOrder', () =>
      call(orders.confirmOrder, ordersOptions, `confirm order ${order.orderId}`, {
        ...ref('confirmOrder'),
        customerId: order.customer.id,
        customer: { name: order.customer.name, email: order.customer.email },
        total,
      }),
    );

    if (order.payment.capture === 'at-confirmation') {
      saga.add('refundPayment', () =>
        call(payments.refundPayment, undoOptions, `refund ${money(total)}`, {
          ...ref('refundPayment'),
          captureKey: key('capturePayment'),
        }),
      );
      await capture(paymentsOptions);
    }

    const shipment = await step('awaitDispatch', async () => {
      await wait('dispatch', () => dispatch !== undefined);
      const d = dispatch as DispatchConfirmation;
      return call(shipping.recordDispatch, afterDispatchOptions, `dispatched: ${d.trackingNumber}`, {
        ...ref('awaitDispatch'),
        allocateKey: key('allocateShipment'),
        trackingNumber: d.trackingNumber,
        ...(d.carrier ? { carrier: d.carrier } : {}),
      });
    });

    dispatched = true;

    if (order.payment.capture === 'at-dispatch') await capture(afterDispatchOptions);
    await step('completeOrder', () =>
      call(orders.completeOrder, afterDispatchOptions, `complete order ${order.orderId}`, {
        ...ref('completeOrder'),
        total,
        trackingNumber: shipment.trackingNumber ?? '',
      }),
    );
    outcome = { status: 'COMPLETED' };
  } catch (err) {
    outcome = classify(err);
    if (dispatched) {
      // The parcel has left: undoing stock or shipment would lie. Only an operator can settle it.
      outcome = { status: 'FAILED', reason: `after dispatch: ${outcome.reason}` };
      log.error('order saga failed after dispatch; nothing undone', { orderId: order.orderId, reason: outcome.reason });
    } else {
      log.info('order saga compensating', { orderId: order.orderId, outcome: outcome.status, reason: outcome.reason });
      setStatus(SagaStatus.COMPENSATING);
      // An operator's workflow cancellation must not interrupt the undo it caused.
      await CancellationScope.nonCancellable(() => saga.compensate('sequential'));
    }
  }

  ledger.outcome = outcome;
  ledger.currentStep = null;
  setStatus(outcome.status);
  return { orderId: order.orderId, status: outcome.status, ...(outcome.reason ? { reason: outcome.reason } : {}), ledger };

  function unfulfilled(): { outcome: 'REJECTED' | 'CANCELLED' | 'FAILED'; reason: string } {
    const status = outcome?.status;
    return { outcome: status === 'REJECTED' || status === 'CANCELLED' ? status : 'FAILED', reason: outcome?.reason ?? 'unknown' };
  }

  function classify(err: unknown): { status: TerminalStatus; reason: string } {
    if (err instanceof CustomerCancellation) return { status: 'CANCELLED', reason: err.message };
    if (isCancellation(err)) return { status: 'CANCELLED', reason: 'cancelled by an operator (workflow cancellation)' };
    if (
      err instanceof ActivityFailure &&
      err.cause instanceof ApplicationFailure &&
      Object.values<string>(Refusal).includes(err.cause.type ?? '')
    ) {
      return { status: 'REJECTED', reason: err.cause.message };
    }
    const failed = ledger.steps.at(-1);
    return { status: 'FAILED', reason: `${failed?.name ?? 'a step'} failed: ${rootMessage(err)}` };
  }
}
