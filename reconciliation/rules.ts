import { z } from 'zod';

/**
 * The reconciliation rules, kept as data: each names a combination the saga should make
 * impossible, the check that finds it (reconciliation/checks.ts), and whether its finding is safe
 * to repair automatically (then `repair` is the participant's operation a repair runs, under a
 * key derived from the saga's own, so a repeated repair changes nothing) or goes to the operator
 * queue. Adding a rule is a row here and a check there.
 */
export const RuleId = z.enum([
  'confirmed-without-stock',
  'captured-without-shipment',
  'authorized-cancelled-not-voided',
  'refunded-without-capture',
  'stock-reserved-closed-order',
  'saga-past-sla',
  'outbox-lag',
  'order-view-disagrees',
  'dispatched-not-captured',
]);
export type RuleId = z.infer<typeof RuleId>;

/** What an automatic repair calls: an undo of the saga, or the escalation the saga owed. */
export type RepairOperation = 'voidAuthorization' | 'releaseStock' | 'escalateOrder';

export interface Rule {
  id: RuleId;
  /** What the finding says, for the operator queue. */
  title: string;
  handling: 'automatic' | 'operator';
  repair?: RepairOperation;
  /** Why it is (or is not) safe to repair without a person. */
  why: string;
  /**
   * Ledger rules look at settled orders only: a saga mid-step or compensating passes through
   * combinations that are fine a second later, so its orders are left for the next run.
   */
  needsSettledSaga: boolean;
}

export const rules: readonly Rule[] = [
  {
    id: 'confirmed-without-stock',
    title: 'order confirmed (or completed) without stock reserved',
    handling: 'operator',
    why: 'the goods may be gone: someone must find stock or cancel the order with the customer',
    needsSettledSaga: true,
  },
  {
    id: 'captured-without-shipment',
    title: 'payment captured without a shipment',
    handling: 'operator',
    why: 'either ship or refund: a business decision, and a refund moves money out',
    needsSettledSaga: true,
  },
  {
    id: 'authorized-cancelled-not-voided',
    title: 'payment authorized for an order that ended unfulfilled, and not voided',
    handling: 'automatic',
    repair: 'voidAuthorization',
    why: 'voiding releases a hold on the customer’s money and charges nothing; the order is closed',
    needsSettledSaga: true,
  },
  {
    id: 'refunded-without-capture',
    title: 'payment refunded without a capture',
    handling: 'operator',
    why: 'money went out that never came in: nothing to undo, someone must recover it',
    needsSettledSaga: true,
  },
  {
    id: 'stock-reserved-closed-order',
    title: 'stock still reserved for an order that ended unfulfilled',
    handling: 'automatic',
    repair: 'releaseStock',
    why: 'releasing returns stock nobody can ship any more; the order is closed',
    needsSettledSaga: true,
  },
  {
    id: 'saga-past-sla',
    title: 'saga waiting past its SLA without an escalation',
    handling: 'automatic',
    repair: 'escalateOrder',
    why: 'the repair is the alert the saga owed, under the saga’s own escalation key: when the saga escalates itself it gets the same answer',
    needsSettledSaga: false,
  },
  {
    id: 'outbox-lag',
    title: 'outbox rows unsent past the lag budget',
    handling: 'operator',
    why: 'the relay, Kafka or a paused topic holds them: only a person can tell which',
    needsSettledSaga: false,
  },
  {
    id: 'order-view-disagrees',
    title: 'order view disagrees with the ledgers',
    handling: 'operator',
    why: 'a projection that lost or misapplied an event needs its events replayed (dead letters, redrive)',
    needsSettledSaga: true,
  },
  {
    id: 'dispatched-not-captured',
    title: 'parcel dispatched, payment never captured, saga no longer running',
    handling: 'operator',
    why: 'the goods are gone and the money is only held: capture (or write off) is a decision about money',
    needsSettledSaga: true,
  },
];

export function ruleOf(id: string): Rule {
  const rule = rules.find((r) => r.id === id);
  if (!rule) throw new Error(`unknown reconciliation rule ${id}`);
  return rule;
}
