import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { RunReport } from '../reconciliation/findings';
import type { ReconciliationActivities } from '../reconciliation/activities';
import type { RepairOutcome } from '../reconciliation/repairs';
import type { ReconciliationInput } from './reconciliation-definitions';

/**
 * One reconciliation run: every rule's check in turn (each one activity: check, set against the
 * sagas, record), then every live automatic finding repaired. Started by the Schedule
 * (`trapeze-reconciliation`) or on demand by an operator; runs may overlap (an on-demand run during
 * a scheduled one), which the findings store and the repairs' idempotency keys make harmless.
 * Its own task queue and worker (workers/reconciliation.ts), so it never competes with sagas.
 */
const { beginReconciliation, checkRule, finishReconciliation } = proxyActivities<ReconciliationActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});
const { repairReconciliationFinding } = proxyActivities<ReconciliationActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

export async function reconciliation(input: ReconciliationInput = { trigger: 'schedule' }): Promise<RunReport> {
  const runId = workflowInfo().workflowId;
  const { rules } = await beginReconciliation({ runId, trigger: input.trigger, ...(input.rules ? { rules: input.rules } : {}) });
  const found: string[] = [];
  const cleared: string[] = [];
  const repaired: string[] = [];
  let deferred = 0;
  for (const rule of rules) {
    const result = await checkRule({ runId, rule });
    found.push(...result.found);
    cleared.push(...result.cleared);
    deferred += result.deferred;
    for (const findingId of result.repairable) {
      // A repair that keeps failing is left for the next run; the finding stays open and counted.
      const outcome: RepairOutcome | undefined = await repairReconciliationFinding({ runId, findingId }).catch(() => undefined);
      if (outcome?.outcome === 'repaired' && outcome.recorded) repaired.push(findingId);
      if (outcome?.outcome === 'deferred') deferred += 1;
    }
  }
  return finishReconciliation({ runId, trigger: input.trigger, rules, found, repaired, cleared, deferred });
}
