import { z } from 'zod';

/**
 * The reconciliation context: what the scheduled comparison of the ledgers, the sagas and the
 * order view found. One event when a discrepancy is first found, one when a safe one was repaired
 * automatically, one when an operator resolved it. No personal data: findings name orders by id.
 */
export const ReconciliationFindingV1 = z.object({
  findingId: z.string(),
  /** The rule that found it (reconciliation/rules.ts), e.g. `authorized-cancelled-not-voided`. */
  rule: z.string(),
  /** What it is about: an order id, or a topic for outbox findings. */
  subject: z.string(),
  orderId: z.string().optional(),
  state: z.enum(['found', 'repaired', 'resolved']),
  /** Whether the rule repairs it automatically or leaves it to an operator. */
  handling: z.enum(['automatic', 'operator']),
  summary: z.string(),
});

export const reconciliationEvents = {
  ReconciliationFinding: {
    context: 'reconciliation',
    description:
      'Reconciliation found a combination the saga should make impossible, repaired it automatically, or an operator resolved it.',
    versions: { 1: ReconciliationFindingV1 },
  },
} as const;
