import type { Database, Sql } from '../../platform/database';
import { emit } from '../emit';
import { causeOf, noFaults, type Faults, type StepRef } from '../step';
import { findOrder, findTransition, insertOrder, recordTransition, setStatus, type Transition } from './ledger';

/** The orders participant: the order's own lifecycle, from submitted to completed or cancelled. */
interface Money {
  amount: number;
  currency: string;
}

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
}
export interface EscalateOrderRequest extends StepRef {
  waitingFor: 'payment' | 'dispatch';
  slaSeconds: number;
}

const FINAL = new Set(['COMPLETED', 'REJECTED', 'CANCELLED', 'FAILED']);

export function createOrderActivities(db: Database, faults: Faults = noFaults) {
  /** Runs `apply` once per idempotency key; a retry gets the first answer back. */
  const once = async (operation: string, ref: StepRef, apply: (tx: Sql) => Promise<Transition>) => {
    const result = await db.transaction(
      async (tx) => (await findTransition(tx, ref.key)) ?? recordTransition(tx, ref.key, await apply(tx)),
    );
    await faults.afterCommit(operation, ref.key);
    return result;
  };

  return {
    async submitOrder(req: SubmitOrderRequest): Promise<Transition> {
      return once('submitOrder', req, async (tx) => {
        await insertOrder(tx, {
          orderId: req.orderId,
          customerId: req.customerId,
          amount: req.total.amount,
          currency: req.total.currency,
        });
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
      return once('confirmOrder', req, async (tx) => {
        const order = await findOrder(tx, req.orderId);
        if (order?.status !== 'SUBMITTED')
          throw new Error(`order ${req.orderId} cannot be confirmed from ${order?.status ?? 'nothing'}`);
        await setStatus(tx, req.orderId, 'CONFIRMED');
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
      return once('completeOrder', req, async (tx) => {
        const order = await findOrder(tx, req.orderId);
        if (order?.status !== 'CONFIRMED')
          throw new Error(`order ${req.orderId} cannot be completed from ${order?.status ?? 'nothing'}`);
        await setStatus(tx, req.orderId, 'COMPLETED');
        await emit(tx, 'OrderCompleted', causeOf(req), {
          orderId: req.orderId,
          total: req.total,
          trackingNumber: req.trackingNumber,
        });
        return { orderId: req.orderId, status: 'COMPLETED', reason: null, applied: true };
      });
    },

    /** The undo of submitOrder. Safe when the order was never submitted: nothing changes, no event. */
    async cancelOrder(req: CancelOrderRequest): Promise<Transition> {
      return once('cancelOrder', req, async (tx) => {
        const order = await findOrder(tx, req.orderId);
        if (!order || FINAL.has(order.status))
          return { orderId: req.orderId, status: order?.status ?? 'NONE', reason: req.reason, applied: false };
        await setStatus(tx, req.orderId, req.outcome, req.reason);
        await emit(tx, 'OrderCancelled', causeOf(req), { orderId: req.orderId, outcome: req.outcome, reason: req.reason });
        return { orderId: req.orderId, status: req.outcome, reason: req.reason, applied: true };
      });
    },

    /** A wait outlived its SLA: the order's record says so and an operator gets an event. */
    async escalateOrder(req: EscalateOrderRequest): Promise<Transition> {
      return once('escalateOrder', req, async (tx) => {
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
