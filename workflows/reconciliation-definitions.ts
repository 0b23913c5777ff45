/**
 * What code outside the workflow needs to know about the reconciliation run: its type, task queue,
 * schedule id and input (the workflow itself is workflows/reconciliation.ts).
 */
export const RECONCILIATION_WORKFLOW = 'reconciliation';
export const RECONCILIATION_TASK_QUEUE = 'trapeze-reconciliation';
export const RECONCILIATION_SCHEDULE_ID = 'trapeze-reconciliation';

export interface ReconciliationInput {
  trigger: 'schedule' | 'operator' | 'test';
  /** A subset of the rules (reconciliation/rules.ts); all of them by default. */
  rules?: string[];
}
