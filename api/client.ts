import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
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
import { workflowIdFor } from '../domain/ids';
import { type SagaStatus } from '../domain/saga';
import type { orderFulfillment } from '../workflows/order-fulfillment';
import { parseOrder, type Order } from '../domain/order';

/**
 * The typed client teams use to drive order sagas. Input is validated before anything starts
 * (InvalidOrderError names the fields); a start is idempotent per order id: starting an order
 * that already has a saga, running or finished, returns that saga and starts nothing.
 */
export interface OrderSaga {
  orderId: string;
  workflowId: string;
  runId: string;
}

export type Answer<T> = ({ accepted: true } & T) | { accepted: false; reason: string };

export interface OrderClientOptions {
  taskQueue?: string;
}

const amount = (m: { amount: number; currency: string }) => `${m.currency} ${(m.amount / 100).toFixed(2)}`;

/** What the UI shows for the saga from its start: no customer PII, just the order's shape. */
function summaries(order: Order) {
  const total = orderTotal(order);
  return {
    staticSummary: `Order ${order.orderId}: ${order.lines.length} line(s), ${amount(total)}, customer ${order.customer.id}`,
    staticDetails: [
      `**Order** ${order.orderId} for customer ${order.customer.id}, ship to ${order.shippingAddress.country}, capture ${order.payment.capture}`,
      '',
      ...order.lines.map((l) => `- ${l.quantity} × ${l.sku} at ${amount(l.unitPrice)}`),
      '',
      `**Total** ${amount(total)}`,
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

  return {
    /** Validates and starts the order's saga, or returns the saga this order already has. */
    async startOrder(input: unknown): Promise<OrderSaga> {
      const order = parseOrder(input);
      const workflowId = workflowIdFor(order.orderId);
      try {
        const h = await client.workflow.start<typeof orderFulfillment>('orderFulfillment', {
          taskQueue,
          workflowId,
          args: [order],
          // Running: attach to it. Closed: never start a second saga for the same order.
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: OrderIdAttribute, value: order.orderId },
            { key: CustomerIdAttribute, value: order.customer.id },
            { key: SagaStepAttribute, value: 'none' },
            { key: SagaStatusAttribute, value: 'RUNNING' },
          ],
          ...summaries(order),
        });
        return { orderId: order.orderId, workflowId, runId: h.firstExecutionRunId };
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const described = await client.workflow.getHandle(workflowId).describe();
        return { orderId: order.orderId, workflowId, runId: described.runId };
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

    /** The payment provider's webhook for an asynchronous authorization. */
    async reportPaymentResult(orderId: string, result: PaymentWebhook): Promise<void> {
      await handle(orderId).signal(paymentResultSignal, result);
    },
  };
}

export type OrderClient = ReturnType<typeof createOrderClient>;
export { InvalidOrderError, type OrderRequest } from '../domain/order';
