import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../events/envelope';

const ORDERS = 1_000;

/** The benchmark's i-th event: 1,000 orders, each with its events in order. */
export const benchEvent = (run: string, i: number): NewEvent => {
  const orderId = `order-${run}-${i % ORDERS}`;
  return {
    context: 'orders',
    type: `Step${Math.floor(i / ORDERS)}`,
    schemaVersion: 1,
    orderId,
    causationId: `${orderId}/${i}/${randomUUID()}`,
    correlationId: `order-${orderId}`,
    data: { orderId, amount: i, lines: [{ sku: `sku-${i % 97}`, qty: 1 + (i % 3) }] },
  };
};
