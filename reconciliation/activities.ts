import type { Client } from '@temporalio/client';
import { createParticipants } from '../activities';
import type { Database } from '../platform/database';
import { checks, type Candidate, type CheckSettings } from './checks';
import { beginRun, findingById, findingCounts, finishRun, listFindings, recordFindings, type RunReport } from './findings';
import type { ReconciliationMetrics } from './metrics';
import { repairFinding, type RepairOutcome } from './repairs';
import { RuleId, ruleOf, rules } from './rules';
import { sagaEscalations, sagaSituation } from './sagas';

/**
 * The reconciliation's activities, built from their dependencies: the ledgers+outbox database,
 * the order view's database, a Temporal client (visibility and the `saga` query) and the budgets.
 * Every activity may be retried: recording and repairing are idempotent.
 */
export interface ReconciliationDeps {
  db: Database;
  /** The order view's database; the ledgers' one when the view lives there too. */
  viewDb?: Database;
  client: Client;
  settings: CheckSettings;
  metrics?: ReconciliationMetrics;
}

export interface RuleResult {
  rule: RuleId;
  found: string[];
  cleared: string[];
  /** Live automatic findings of this rule: the workflow repairs each. */
  repairable: string[];
  deferred: number;
}

export function createReconciliationActivities({ db, viewDb = db, client, settings, metrics }: ReconciliationDeps) {
  const participants = createParticipants(db);

  /** Keeps the candidates whose saga has settled; those mid-step are left for the next run. */
  async function againstSagas(rule: RuleId, first: Candidate[], now: number) {
    const kept: Candidate[] = [];
    const deferred: string[] = [];
    if (rule === 'saga-past-sla') {
      for (const c of first) {
        const saga = await sagaSituation(client, c.subject);
        if (saga.kind !== 'waiting' || saga.status === 'ESCALATED') continue;
        const escalations = await sagaEscalations(client, c.subject);
        if (!escalations) deferred.push(c.subject);
        else if (!escalations.some((e) => e.waitingFor === c.detail.waitingFor)) kept.push(c);
      }
      return { kept, deferred };
    }
    if (!ruleOf(rule).needsSettledSaga) return { kept: first, deferred };
    for (const c of first) {
      const saga = c.orderId ? await sagaSituation(client, c.orderId) : { kind: 'absent' as const };
      if (saga.kind === 'busy') deferred.push(c.subject);
      else kept.push(c);
    }
    // Looked at again after the sagas: a combination seen while a saga moved on is gone by now.
    const again = new Set((await checks[rule]({ db, viewDb, now, settings })).map((c) => c.subject));
    return { kept: kept.filter((c) => again.has(c.subject)), deferred };
  }

  return {
    async beginReconciliation(input: { runId: string; trigger: string; rules?: string[] }): Promise<{ rules: RuleId[] }> {
      const chosen = input.rules?.length ? input.rules.map((r) => RuleId.parse(r)) : rules.map((r) => r.id);
      await beginRun(db, input.runId, input.trigger, chosen);
      return { rules: chosen };
    },

    async checkRule({ runId, rule }: { runId: string; rule: RuleId }): Promise<RuleResult> {
      const observedAt = Date.now();
      const first = await checks[rule]({ db, viewDb, now: observedAt, settings });
      const { kept, deferred } = await againstSagas(rule, first, Date.now());
      const recorded = await recordFindings(db, { runId, rule, candidates: kept, deferred, observedAt });
      metrics?.found.inc({ rule }, recorded.found.length);
      const repairable = ruleOf(rule).handling === 'automatic' ? (await listFindings(db, { rule })).map((f) => f.id) : [];
      return { rule, found: recorded.found, cleared: recorded.cleared, repairable, deferred: deferred.length };
    },

    async repairReconciliationFinding({ findingId }: { runId: string; findingId: string }): Promise<RepairOutcome> {
      const finding = await findingById(db, findingId);
      if (!finding) return { outcome: 'skipped', reason: 'unknown finding' };
      try {
        const outcome = await repairFinding(finding, { db, participants, client });
        metrics?.repairs.inc({ rule: finding.rule, outcome: outcome.outcome });
        return outcome;
      } catch (err) {
        metrics?.repairs.inc({ rule: finding.rule, outcome: 'failed' });
        throw err;
      }
    },

    async finishReconciliation(partial: Omit<RunReport, 'findings'>): Promise<RunReport> {
      const report = { ...partial, findings: (await findingCounts(db)).reduce((n, c) => n + c.n, 0) };
      await finishRun(db, report);
      metrics?.runs.inc({ trigger: report.trigger });
      metrics?.lastRun.set(Date.now() / 1000);
      return report;
    },
  };
}
export type ReconciliationActivities = ReturnType<typeof createReconciliationActivities>;
