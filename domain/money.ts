import { z } from 'zod';

/** Amounts travel in minor units (cents) with their ISO 4217 currency: no floating point money. */
export const Currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR');

/** The largest amount any order, line or derived sum may reach (minor units): safe in every integer store. */
export const MAX_AMOUNT = Number.MAX_SAFE_INTEGER;

export const Money = z.object({
  amount: z.number().int().nonnegative().max(MAX_AMOUNT),
  currency: Currency,
});
export type Money = z.infer<typeof Money>;

export { formatMoney } from './amounts';
