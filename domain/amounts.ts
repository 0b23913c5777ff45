import type { Money } from './money';
import type { Order } from './order';

// Arithmetic and wording over amounts, without the schemas: workflow code imports these, and a
// module that builds zod schemas at load would be evaluated again for every saga a worker (or a
// replay) starts — most of what creating a saga's sandbox cost (money.ts and order.ts re-export).

/** The one way money is written for people: `EUR 12.50`. */
export function formatMoney({ amount, currency }: Money): string {
  return `${currency} ${(amount / 100).toFixed(2)}`;
}

/** The order total: the sum of the lines, in the order's one currency. */
export function orderTotal(order: Pick<Order, 'lines'>): Money {
  const currency = order.lines[0]?.unitPrice.currency ?? 'EUR';
  return { amount: order.lines.reduce((sum, l) => sum + l.quantity * l.unitPrice.amount, 0), currency };
}
