import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../events/envelope';

/** The benchmark's i-th event: `orders` orders (1,000 by default), each with its events in order. */
export const benchEvent = (run: string, i: number, orders = 1_000): NewEvent => {
  const orderId = `order-${run}-${i % orders}`;
  return {
    context: 'orders',
    type: `Step${Math.floor(i / orders)}`,
    schemaVersion: 1,
    orderId,
    causationId: `${orderId}/${i}/${randomUUID()}`,
    correlationId: `order-${orderId}`,
    data: { orderId, amount: i, lines: [{ sku: `sku-${i % 97}`, qty: 1 + (i % 3) }] },
  };
};
