import { z } from 'zod';
import { MAX_AMOUNT, Money } from './money';

/**
 * What a team sends to start an order saga. Amounts are integers in minor units with their
 * currency; one order is paid in one currency. The parsed value is the saga's input, so the
 * workflow never sees unvalidated data.
 */

export const OrderLine = z.object({
  sku: z.string().trim().min(1).max(64),
  quantity: z.number().int().positive().max(1000),
  unitPrice: Money,
});

export const ShippingAddress = z.object({
  name: z.string().trim().min(1).max(200),
  line1: z.string().trim().min(1).max(200),
  line2: z.string().trim().max(200).optional(),
  city: z.string().trim().min(1).max(100),
  postalCode: z.string().trim().min(1).max(20),
  country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code such as DE'),
});

export const OrderInput = z
  .object({
    orderId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, - and _, at most 64'),
    customer: z.object({
      id: z.string().trim().min(1).max(64),
      name: z.string().trim().min(1).max(200),
      email: z.email(),
    }),
    lines: z.array(OrderLine).min(1).max(100),
    shippingAddress: ShippingAddress,
    payment: z.object({
      /** A token from the payment provider; never card data. Test tokens: see activities/payments. */
      methodToken: z.string().min(1).max(200),
      /** When the held amount is charged: when the parcel leaves (default) or as soon as the order is confirmed. */
      capture: z.enum(['at-dispatch', 'at-confirmation']).default('at-dispatch'),
    }),
  })
  .superRefine((order, ctx) => {
    const first = order.lines[0]?.unitPrice.currency;
    // Every amount the saga derives (line amounts, the total that is screened, authorized,
    // captured, refunded) must fit the Money every participant and event accepts: an order the
    // edge accepted must never fail validation later. Products and sums of safe integers are
    // compared in floating point, which is exact up to MAX_AMOUNT and never rounds a larger
    // value back below it.
    let total = 0;
    order.lines.forEach((line, i) => {
      if (line.unitPrice.currency !== first) {
        ctx.addIssue({ code: 'custom', path: ['lines', i, 'unitPrice', 'currency'], message: `every line must be in ${first}` });
      }
      const amount = line.quantity * line.unitPrice.amount;
      if (amount > MAX_AMOUNT) {
        ctx.addIssue({
          code: 'custom',
          path: ['lines', i],
          message: `quantity × unit price is above the largest amount an order may reach (${MAX_AMOUNT} minor units)`,
        });
      }
      total += amount;
    });
    if (total > MAX_AMOUNT) {
      ctx.addIssue({
        code: 'custom',
        path: ['lines'],
        message: `the order total is above the largest amount an order may reach (${MAX_AMOUNT} minor units)`,
      });
    }
  });

/** The client's input (defaults may be left out) and the saga's input (defaults filled in). */
export type OrderRequest = z.input<typeof OrderInput>;
export type Order = z.output<typeof OrderInput>;

export interface FieldError {
  /** Dotted path of the offending field, e.g. `lines.0.quantity`. */
  field: string;
  message: string;
}

/** Thrown by the client for input that fails validation; no saga was started. */
export class InvalidOrderError extends Error {
  override readonly name = 'InvalidOrderError';
  constructor(readonly fields: FieldError[]) {
    super(`invalid order: ${fields.map((f) => `${f.field || '(order)'}: ${f.message}`).join('; ')}`);
  }
}

export function parseOrder(input: unknown): Order {
  const parsed = OrderInput.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new InvalidOrderError(parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.'), message: i.message })));
}

export { orderTotal } from './amounts';
