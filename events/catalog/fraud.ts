import { z } from 'zod';
import { Money } from './values';

/**
 * The fraud context (release 1.1): an order is screened between submission and payment
 * authorization. `verdict` is `clear` (the saga goes on) or `rejected` (the saga compensates and
 * ends REJECTED); `signals` name the rules that fired, never the customer's data.
 */
export const FraudScreenedV1 = z.object({
  orderId: z.string(),
  customerId: z.string(),
  total: Money,
  verdict: z.enum(['clear', 'rejected']),
  /** 0 (no risk) … 100 (certain fraud). */
  score: z.number().int().min(0).max(100),
  signals: z.array(z.string()),
});

export const fraudEvents = {
  FraudScreened: {
    context: 'fraud',
    description: 'The order was screened for fraud before any money was held.',
    versions: { 1: FraudScreenedV1 },
  },
} as const;
