import { z } from 'zod';
import { Money, StockLine } from './values';

/**
 * The orders context. Customer PII (name, email) is carried by OrderConfirmed only, because the
 * notification that needs it reads that event; every other orders event names the customer by id.
 */
export const OrderSubmittedV1 = z.object({
  orderId: z.string(),
  customerId: z.string(),
  lines: z.array(StockLine.extend({ unitPrice: Money })),
  total: Money,
});

export const OrderConfirmedV1 = z.object({
  orderId: z.string(),
  customerId: z.string(),
  total: Money,
  customer: z.object({ name: z.string(), email: z.string() }),
});

/** One event for every way an order ends unfulfilled; `outcome` is the saga's terminal status. */
export const OrderCancelledV1 = z.object({
  orderId: z.string(),
  outcome: z.enum(['REJECTED', 'CANCELLED', 'FAILED']),
  reason: z.string(),
});

export const OrderCompletedV1 = z.object({
  orderId: z.string(),
  total: Money,
  trackingNumber: z.string(),
});

/** A wait outlived its SLA: somebody has to look (the saga keeps waiting). */
export const OrderEscalatedV1 = z.object({
  orderId: z.string(),
  waitingFor: z.enum(['payment', 'dispatch']),
  slaSeconds: z.number().int().positive(),
});

export const ordersEvents = {
  OrderSubmitted: { context: 'orders', description: 'An order was accepted for fulfilment.', versions: { 1: OrderSubmittedV1 } },
  OrderConfirmed: {
    context: 'orders',
    description: 'Payment authorized, stock reserved and shipment allocated: the order will be fulfilled.',
    versions: { 1: OrderConfirmedV1 },
  },
  OrderCancelled: {
    context: 'orders',
    description: 'The order ended unfulfilled (rejected, cancelled by the customer, or failed); everything it held was undone.',
    versions: { 1: OrderCancelledV1 },
  },
  OrderCompleted: { context: 'orders', description: 'The order was dispatched and paid.', versions: { 1: OrderCompletedV1 } },
  OrderEscalated: {
    context: 'orders',
    description: 'The saga has waited longer than its SLA for a payment answer or a dispatch.',
    versions: { 1: OrderEscalatedV1 },
  },
} as const;
