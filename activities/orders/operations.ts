import { idempotencyKey } from '../../domain/ids';
import type { Money } from '../../domain/money';
import type { Database, Tx } from '../../platform/database';
import { emit } from '../emit';
import { causeOf, noFaults, type Faults, type StepRef } from '../step';
import { alreadyUndone, bury, tombstoneOf, transact } from '../tcc';
import {
  cancelledBy,
  findOrder,
  findTransition,
  insertOrder,
  moveOrder,
  recordTransition,
  type OrderRow,
  type OrderStatus,
  type Transition,
} from './ledger';

/** The orders participant: the order's own lifecycle, from submitted to completed or cancelled. */
export interface SubmitOrderRequest extends StepRef {
  customerId: string;
  lines: { sku: string; quantity: number; unitPrice: Money }[];
  total: Money;
}
export interface ConfirmOrderRequest extends StepRef {
  customerId: string;
  customer: { name: string; email: string };
  total: Money;
}
export interface CompleteOrderRequest extends StepRef {
  total: Money;
  trackingNumber: string;
}
export interface CancelOrderRequest extends StepRef {
  outcome: 'REJECTED' | 'CANCELLED' | 'FAILED';
  reason: string;
  /** The idempotency key of the submission this undoes; by default the saga's `submitOrder` key. */
  submitKey?: string;
}
export interface EscalateOrderRequest extends StepRef {
  waitingFor: 'payment' | 'dispatch';
  slaSeconds: number;
}

const TOMBSTONES = 'order_tombstones';
const UNFULFILLED = new Set<OrderStatus>(['REJECTED', 'CANCELLED', 'FAILED']);
const FINAL = new Set<OrderStatus>(['COMPLETED', ...UNFULFILLED]);

const submitKeyOf = (ref: StepRef) => idempotencyKey(ref.workflowId, 'submitOrder');

/**
 * No suspension for the order's later steps: once cancelOrder ended the order (or buried a
 * submission that never came), confirming or completing it refuses and changes nothing.
 */
async function refuseIfUndone(tx: Tx, step: string, ref: StepRef, order: OrderRow | undefined): Promise<void> {
  if (order && UNFULFILLED.has(order.status)) {
    throw alreadyUndone(step, ref.key, (await cancelledBy(tx, ref.orderId)) ?? 'cancelOrder', `order ${ref.orderId}`);
  }
  const buried = order ? undefined : await tombstoneOf(tx, TOMBSTONES, submitKeyOf(ref));
  if (buried) throw alreadyUndone(step, ref.key, buried.undoKey, `order ${ref.orderId}`);
}

export function createOrderActivities(db: Database, faults: Faults = noFaults) {
  /**
   * Runs `apply` once per idempotency key under the lock of `lockKey` (the step's own key, or for
   * an undo the key of the step it undoes); a retry gets the first answer back.
   */
  const once = async (operation: string, ref: StepRef, lockKey: string, apply: (tx: Tx) => Promise<Transition>) => {
    const result = await transact(db, async (tx) => {
      await tx.lock(lockKey);
      return (await findTransition(tx, ref.key)) ?? recordTransition(tx, ref.key, await apply(tx));
    });
    await faults.afterCommit(operation, ref.key);
    return result;
  };

  return {
    /** Refuses (StepAlreadyUndone) after cancelOrder found no order and buried this key. */
    async submitOrder(req: SubmitOrderRequest): Promise<Transition> {
      return once('submitOrder', req, req.key, async (tx) => {
        const buried = await tombstoneOf(tx, TOMBSTONES, req.key);
        if (buried) throw alreadyUndone('submitOrder', req.key, buried.undoKey, `order ${req.orderId}`);
        await insertOrder(tx, { orderId: req.orderId, customerId: req.customerId, total: req.total });
        await emit(tx, 'OrderSubmitted', causeOf(req), {
          orderId: req.orderId,
          customerId: req.customerId,
          lines: req.lines,
          total: req.total,
        });
        return { orderId: req.orderId, status: 'SUBMITTED', reason: null, applied: true };
      });
    },

    async confirmOrder(req: ConfirmOrderRequest): Promise<Transition> {
      return once('confirmOrder', req, req.key, async (tx) => {
        const order = await findOrder(tx, req.orderId);
        await refuseIfUndone(tx, 'confirmOrder', req, order);
        if (order?.status !== 'SUBMITTED')
          throw new Error(`order ${req.orderId} cannot be confirmed from ${order?.status ?? 'nothing'}`);
        await moveOrder(tx, req.orderId, 'SUBMITTED', 'CONFIRMED');
        await emit(tx, 'OrderConfirmed', causeOf(req), {
          orderId: req.orderId,
          customerId: req.customerId,
          total: req.total,
          customer: req.customer,
        });
        return { orderId: req.orderId, status: 'CONFIRMED', reason: null, applied: true };
      });
    },

    async completeOrder(req: CompleteOrderRequest): Promise<Transition> {
      return once('completeOrder', req, req.key, async (tx) => {
        const order = await findOrder(tx, req.orderId);
        await refuseIfUndone(tx, 'completeOrder', req, order);
        if (order?.status !== 'CONFIRMED')
          throw new Error(`order ${req.orderId} cannot be completed from ${order?.status ?? 'nothing'}`);
        await moveOrder(tx, req.orderId, 'CONFIRMED', 'COMPLETED');
        await emit(tx, 'OrderCompleted', causeOf(req), {
          orderId: req.orderId,
          total: req.total,
          trackingNumber: req.trackingNumber,
        });
        return { orderId: req.orderId, status: 'COMPLETED', reason: null, applied: true };
      });
    },

    /**
     * The undo of submitOrder: ends the order unfulfilled. With no order it buries the submission's
     * key (nothing else changes, no event), so a late submitOrder refuses. A completed order stays
     * completed; a concurrent confirm or completion is never overwritten (compare-and-set).
     */
    async cancelOrder(req: CancelOrderRequest): Promise<Transition> {
      const submitKey = req.submitKey ?? submitKeyOf(req);
      return once('cancelOrder', req, submitKey, async (tx) => {
        const order = await findOrder(tx, req.orderId);
        if (!order) await bury(tx, TOMBSTONES, { forwardKey: submitKey, undoKey: req.key, orderId: req.orderId });
        if (!order || FINAL.has(order.status))
          return { orderId: req.orderId, status: order?.status ?? 'NONE', reason: req.reason, applied: false };
        await moveOrder(tx, req.orderId, order.status, req.outcome, req.reason);
        await emit(tx, 'OrderCancelled', causeOf(req), { orderId: req.orderId, outcome: req.outcome, reason: req.reason });
        return { orderId: req.orderId, status: req.outcome, reason: req.reason, applied: true };
      });
    },

    /** A wait outlived its SLA: the order's record says so and an operator gets an event. */
    async escalateOrder(req: EscalateOrderRequest): Promise<Transition> {
      return once('escalateOrder', req, req.key, async (tx) => {
        await emit(tx, 'OrderEscalated', causeOf(req), {
          orderId: req.orderId,
          waitingFor: req.waitingFor,
          slaSeconds: req.slaSeconds,
        });
        return {
          orderId: req.orderId,
          status: 'ESCALATED',
          reason: `waiting for ${req.waitingFor} beyond ${req.slaSeconds} s`,
          applied: true,
        };
      });
    },
  };
}
