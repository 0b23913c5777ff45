import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { createHash } from 'node:crypto';
import { rootMessage } from '../domain/failure';
import {
  cancelUpdate,
  confirmDispatchUpdate,
  CustomerIdAttribute,
  OrderIdAttribute,
  paymentResultSignal,
  sagaQuery,
  SagaStatusAttribute,
  SagaStepAttribute,
  TASK_QUEUE,
  type DispatchConfirmation,
  type PaymentWebhook,
  type SagaProgress,
  type SagaResult,
} from '../workflows/definitions';
import { orderTotal } from '../domain/order';
import { formatMoney } from '../domain/money';
import { workflowIdFor } from '../domain/ids';
import { type SagaStatus } from '../domain/saga';
import type { orderFulfillment } from '../workflows/order-fulfillment';
import { OrderInput, parseOrder, type Order } from '../domain/order';

/**
 * The typed client teams use to drive order sagas. Input is validated before anything starts
 * (InvalidOrderError names the fields); a start is idempotent per order id and body: starting
 * an order that already has a saga, running or finished, with the same order returns that saga
 * and starts nothing; with a different order it throws OrderConflictError and changes nothing.
 */
export interface OrderSaga {
  orderId: string;
  workflowId: string;
  runId: string;
  /** True for the one call that started the saga (the server decides, not a look-up before). */
  created: boolean;
  /** The saga's status as visibility last saw it (RUNNING for the call that started it). */
  status: string;
}

/** The order id already has a saga for a different order: an amendment is not a retry. */
export class OrderConflictError extends Error {
  override readonly name = 'OrderConflictError';
  constructor(
    readonly orderId: string,
    readonly workflowId: string,
    readonly status: string,
  ) {
    super(
      `order ${orderId} already exists with a different body (its saga is ${status}); use a new order id for a different order`,
    );
  }
}

/**
 * The order's fingerprint: SHA-256 of the validated order (defaults filled in, strings trimmed)
 * as JSON with sorted keys, so that a retry spelled differently is still the same order.
 */
export function orderFingerprint(order: Order): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(order)))
    .digest('hex');
}
/** The memo field holding the fingerprint of the order a saga was started with. */
export const ORDER_FINGERPRINT_MEMO = 'orderSha256';

/** The payment authorization a saga holds, from its progress (undefined before authorizePayment is done). */
export interface SagaAuthorization {
  authorizationId: string;
  status: string;
  /** The saga still waits for the provider's result. */
  awaiting: boolean;
}
export function authorizationOf(progress: SagaProgress): SagaAuthorization | undefined {
  const step = progress.steps.find((s) => s.name === 'authorizePayment' && s.state === 'done');
  const result = step?.result as { authorizationId?: unknown; status?: unknown } | undefined;
  if (typeof result?.authorizationId !== 'string') return undefined;
  const awaiting = progress.steps.some((s) => s.name === 'awaitPaymentResult' && s.state === 'running');
  return { authorizationId: result.authorizationId, status: String(result.status), awaiting };
}

export type Answer<T> = ({ accepted: true } & T) | { accepted: false; reason: string };

export interface OrderClientOptions {
  taskQueue?: string;
}

/** What the UI shows for the saga from its start: no customer PII, just the order's shape. */
function summaries(order: Order) {
  const total = orderTotal(order);
  return {
    staticSummary: `Order ${order.orderId}: ${order.lines.length} line(s), ${formatMoney(total)}, customer ${order.customer.id}`,
    staticDetails: [
      `**Order** ${order.orderId} for customer ${order.customer.id}, ship to ${order.shippingAddress.country}, capture ${order.payment.capture}`,
      '',
      ...order.lines.map((l) => `- ${l.quantity} × ${l.sku} at ${formatMoney(l.unitPrice)}`),
      '',
      `**Total** ${formatMoney(total)}`,
    ].join('\n'),
  };
}

async function answer<T>(run: () => Promise<T>, ended: () => Promise<string | undefined>): Promise<Answer<T>> {
  try {
    return { accepted: true, ...(await run()) };
  } catch (err) {
    // A validator's refusal (e.g. cancel after dispatch) is an answer, not an error.
    if (err instanceof WorkflowUpdateFailedError) return { accepted: false, reason: rootMessage(err) };
    // An ended saga takes no updates; say how it ended. An unknown order stays an error.
    if (err instanceof WorkflowNotFoundError) {
      const status = await ended();
      if (status) return { accepted: false, reason: `the order is already ${status}` };
    }
    throw err;
  }
}

export function createOrderClient(client: Client, { taskQueue = TASK_QUEUE }: OrderClientOptions = {}) {
  const handle = (orderId: string) => client.workflow.getHandle<typeof orderFulfillment>(workflowIdFor(orderId));
  /** The final SagaStatus of a closed saga, or undefined when it is open or does not exist. */
  const ended = (orderId: string) => async (): Promise<string | undefined> => {
    const d = await handle(orderId)
      .describe()
      .catch(() => undefined);
    if (!d || d.status.name === 'RUNNING') return undefined;
    return d.typedSearchAttributes.get(SagaStatusAttribute) ?? d.status.name;
  };

  /** The fingerprint of the order a saga started before fingerprints were kept in its memo. */
  const startedWith = async (workflowId: string, runId: string): Promise<string | undefined> => {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
    const order = OrderInput.safeParse(await decodeFromPayloadsAtIndex(client.options.loadedDataConverter, 0, input));
    return order.success ? orderFingerprint(order.data) : undefined;
  };

  return {
    /**
     * Validates and starts the order's saga, or returns the saga this order already has (same
     * order) or throws OrderConflictError (different order). The start itself decides who was
     * first: of many concurrent calls exactly one gets `created: true`.
     */
    async startOrder(input: unknown, { historyLimit }: { historyLimit?: number } = {}): Promise<OrderSaga> {
      const order = parseOrder(input);
      const workflowId = workflowIdFor(order.orderId);
      const fingerprint = orderFingerprint(order);
      try {
        const h = await client.workflow.start<typeof orderFulfillment>('orderFulfillment', {
          taskQueue,
          workflowId,
          // A lower history limit (capture, tests) makes the saga continue as new within a few steps.
          args: historyLimit === undefined ? [order] : [order, { historyLimit }],
          // Running or closed: never a second saga for the same order, and never attach blindly.
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: { [ORDER_FINGERPRINT_MEMO]: fingerprint },
          typedSearchAttributes: [
            { key: OrderIdAttribute, value: order.orderId },
            { key: CustomerIdAttribute, value: order.customer.id },
            { key: SagaStepAttribute, value: 'none' },
            { key: SagaStatusAttribute, value: 'RUNNING' },
          ],
          ...summaries(order),
        });
        return { orderId: order.orderId, workflowId, runId: h.firstExecutionRunId, created: true, status: 'RUNNING' };
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const described = await client.workflow.getHandle(workflowId).describe();
        const status = described.typedSearchAttributes.get(SagaStatusAttribute) ?? described.status.name;
        const firstRunId = described.raw.workflowExecutionInfo?.firstRunId ?? described.runId;
        const stored = described.memo?.[ORDER_FINGERPRINT_MEMO] ?? (await startedWith(workflowId, firstRunId));
        if (stored !== fingerprint) throw new OrderConflictError(order.orderId, workflowId, status);
        return { orderId: order.orderId, workflowId, runId: firstRunId, created: false, status };
      }
    },

    /** The saga's progress: status, current step, steps done with results, compensations run. */
    async getOrder(orderId: string): Promise<SagaProgress> {
      return handle(orderId).query(sagaQuery);
    },

    /** Waits for the saga to end and returns its outcome. */
    async orderOutcome(orderId: string): Promise<SagaResult> {
      return handle(orderId).result();
    },

    /** Asks to cancel; accepted until the parcel is dispatched (after capture it refunds). */
    async cancelOrder(orderId: string, reason: string): Promise<Answer<{ status: SagaStatus }>> {
      return answer(async () => {
        const { status } = await handle(orderId).executeUpdate(cancelUpdate, { args: [{ reason }] });
        return { status };
      }, ended(orderId));
    },

    /** The warehouse confirms the parcel left; refused when the order is not awaiting dispatch. */
    async confirmDispatch(orderId: string, confirmation: DispatchConfirmation): Promise<Answer<object>> {
      return answer(async () => {
        await handle(orderId).executeUpdate(confirmDispatchUpdate, { args: [confirmation] });
        return {};
      }, ended(orderId));
    },

    /** The payment authorization the saga holds (to bind a webhook to it), or undefined before there is one. */
    async paymentAuthorization(orderId: string): Promise<SagaAuthorization | undefined> {
      return authorizationOf(await handle(orderId).query(sagaQuery));
    },

    /** The payment provider's webhook for an asynchronous authorization (the saga takes only its own authorization's). */
    async reportPaymentResult(orderId: string, result: PaymentWebhook): Promise<void> {
      await handle(orderId).signal(paymentResultSignal, result);
    },
  };
}

export type OrderClient = ReturnType<typeof createOrderClient>;
export { InvalidOrderError, type OrderRequest } from '../domain/order';
/** What a payment provider (or a test, or the demo) needs to sign the webhook the HTTP API verifies. */
export { paymentWebhookHeaders, signPaymentWebhook } from './payment-webhook';
