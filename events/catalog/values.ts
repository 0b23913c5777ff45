import { z } from 'zod';

/**
 * Money in events is the domain's Money, bounds included: what the order schema lets in, every
 * event carrying an amount accepts (domain/order.ts keeps each derived amount within MAX_AMOUNT).
 */
export { Money } from '../../domain/money';

/** A quantity of one stock keeping unit. */
export const StockLine = z.object({
  sku: z.string().min(1),
  quantity: z.number().int().positive(),
});
export type StockLine = z.infer<typeof StockLine>;
