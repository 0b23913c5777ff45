import { z } from 'zod';

/** Amounts travel in minor units (cents) with their ISO 4217 currency: no floating point money. */
export const Money = z.object({
  amount: z.number().int().nonnegative(),
  currency: z.string().regex(/^[A-Z]{3}$/),
});
export type Money = z.infer<typeof Money>;

/** A quantity of one stock keeping unit. */
export const StockLine = z.object({
  sku: z.string().min(1),
  quantity: z.number().int().positive(),
});
export type StockLine = z.infer<typeof StockLine>;
