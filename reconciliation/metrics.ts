import { Counter, Gauge, type Registry } from 'prom-client';
import type { Sql } from '../platform/database';
import { findingCounts } from './findings';

/**
 * Findings as metrics. The live-findings gauge is read from the store at scrape time, so every
 * process that serves it agrees whichever run recorded them; the counters count this process's work.
 */
export function reconciliationMetrics(registry: Registry, db: Sql) {
  new Gauge({
    name: 'trapeze_reconciliation_findings',
    help: 'Live reconciliation findings (open or acknowledged) by rule, state and handling; alert on any operator finding',
    labelNames: ['rule', 'state', 'handling'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await findingCounts(db)) this.set({ rule: c.rule, state: c.state, handling: c.handling }, c.n);
    },
  });
  return {
    found: new Counter({
      name: 'trapeze_reconciliation_findings_found_total',
      help: 'Findings first found (or found again after being closed), by rule',
      labelNames: ['rule'],
      registers: [registry],
    }),
    repairs: new Counter({
      name: 'trapeze_reconciliation_repairs_total',
      help: 'Automatic repairs by rule and outcome (repaired, deferred, skipped, failed)',
      labelNames: ['rule', 'outcome'],
      registers: [registry],
    }),
    runs: new Counter({
      name: 'trapeze_reconciliation_runs_total',
      help: 'Reconciliation runs finished, by trigger (schedule, operator)',
      labelNames: ['trigger'],
      registers: [registry],
    }),
    lastRun: new Gauge({
      name: 'trapeze_reconciliation_last_run_timestamp_seconds',
      help: 'When the last reconciliation run finished (alert when it is older than a few intervals)',
      registers: [registry],
    }),
  };
}
export type ReconciliationMetrics = ReturnType<typeof reconciliationMetrics>;
