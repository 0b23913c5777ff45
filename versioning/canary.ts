import { z } from 'zod';

/**
 * The canary verdict: compare what sagas on the ramping build did for the business with what sagas
 * on the current build did in the same window. Pure logic; `versioning/outcomes.ts` gathers the
 * numbers from visibility, `npx trapeze canary` (cli/canary.ts) prints the verdict.
 */
export interface BuildOutcomes {
  buildId: string;
  /** Closed sagas that completed the order. */
  completed: number;
  /** Closed sagas that ended by compensating (declined, no stock, cancelled, refunded, exhausted retries). */
  compensated: number;
  /** Executions that failed, timed out or were terminated, or sagas that ended FAILED (a step exhausted its retries). */
  failed: number;
  /** Open sagas. */
  running: number;
  /** Open sagas past the stuck threshold, ESCALATED past a wait's SLA, or with a failing workflow task. */
  stuck: number;
  /** Start-to-close durations of closed sagas, in milliseconds. */
  durationsMs: number[];
}

export const Thresholds = z.object({
  /** Below this many closed sagas on the canary, nothing but a hard failure decides. */
  minClosed: z.number().int().nonnegative().default(20),
  /** Compensation-rate increase (absolute) that holds the rollout, and that rolls it back. */
  compensationHold: z.number().default(0.05),
  compensationRollback: z.number().default(0.15),
  /** Failure-rate increase (absolute) that rolls back: a broken saga is never a business outcome. */
  failureRollback: z.number().default(0.01),
  /** Stuck-rate increase (absolute) that rolls back. */
  stuckRollback: z.number().default(0.01),
  /** p95 duration ratio canary / baseline that holds, and that rolls back. */
  durationHold: z.number().default(1.25),
  durationRollback: z.number().default(2),
});
export type Thresholds = z.infer<typeof Thresholds>;

export interface Rates {
  closed: number;
  compensationRate: number;
  failureRate: number;
  stuckRate: number;
  p50Ms: number | undefined;
  p95Ms: number | undefined;
}

export type Decision = 'promote' | 'hold' | 'roll back';

export interface Verdict {
  decision: Decision;
  reasons: string[];
  baseline: Rates & { buildId: string };
  canary: Rates & { buildId: string };
}

export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function rates(o: BuildOutcomes): Rates {
  const closed = o.completed + o.compensated + o.failed;
  const all = closed + o.running;
  return {
    closed,
    compensationRate: closed === 0 ? 0 : o.compensated / closed,
    failureRate: closed === 0 ? 0 : o.failed / closed,
    stuckRate: all === 0 ? 0 : o.stuck / all,
    p50Ms: percentile(o.durationsMs, 50),
    p95Ms: percentile(o.durationsMs, 95),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const secs = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`);

export function verdict(baseline: BuildOutcomes, canary: BuildOutcomes, thresholds: Partial<Thresholds> = {}): Verdict {
  const t = Thresholds.parse(thresholds);
  const b = rates(baseline);
  const c = rates(canary);
  const rollback: string[] = [];
  const hold: string[] = [];

  // Failures and stuck sagas are judged even on a tiny sample: each one is a saga that needs an operator.
  if (canary.failed > 0 && c.failureRate - b.failureRate > t.failureRollback) {
    rollback.push(`failure rate ${pct(c.failureRate)} vs ${pct(b.failureRate)} (${canary.failed} failed)`);
  }
  const canaryAll = c.closed + canary.running;
  if (canary.stuck > 0 && canaryAll > 0 && c.stuckRate - b.stuckRate > t.stuckRollback) {
    rollback.push(`stuck rate ${pct(c.stuckRate)} vs ${pct(b.stuckRate)} (${canary.stuck} stuck)`);
  }
  if (c.closed < t.minClosed) {
    hold.push(`only ${c.closed} closed sagas on ${canary.buildId} (need ${t.minClosed})`);
  } else {
    const compensationDelta = c.compensationRate - b.compensationRate;
    const line = `compensation rate ${pct(c.compensationRate)} vs ${pct(b.compensationRate)}`;
    if (compensationDelta > t.compensationRollback) rollback.push(line);
    else if (compensationDelta > t.compensationHold) hold.push(line);
    if (b.p95Ms !== undefined && c.p95Ms !== undefined && b.p95Ms > 0) {
      const ratio = c.p95Ms / b.p95Ms;
      const line = `p95 duration ${secs(c.p95Ms)} vs ${secs(b.p95Ms)} (x${ratio.toFixed(2)})`;
      if (ratio > t.durationRollback) rollback.push(line);
      else if (ratio > t.durationHold) hold.push(line);
    }
  }
  const decision: Decision = rollback.length > 0 ? 'roll back' : hold.length > 0 ? 'hold' : 'promote';
  const reasons =
    decision === 'roll back' ? rollback : decision === 'hold' ? hold : ['no business outcome worse than the thresholds'];
  return { decision, reasons, baseline: { ...b, buildId: baseline.buildId }, canary: { ...c, buildId: canary.buildId } };
}

export function formatVerdict(v: Verdict, raw: { baseline: BuildOutcomes; canary: BuildOutcomes }): string {
  const row = (label: string, r: Rates, o: BuildOutcomes) =>
    `  ${label.padEnd(9)}${o.buildId.padEnd(26)}${String(r.closed).padStart(7)}${String(o.running).padStart(8)}` +
    `${pct(r.compensationRate).padStart(13)}${pct(r.failureRate).padStart(9)}${String(o.stuck).padStart(7)}` +
    `${secs(r.p50Ms).padStart(9)}${secs(r.p95Ms).padStart(9)}`;
  return [
    `  ${''.padEnd(9)}${'build'.padEnd(26)}${'closed'.padStart(7)}${'running'.padStart(8)}${'compensated'.padStart(13)}` +
      `${'failed'.padStart(9)}${'stuck'.padStart(7)}${'p50'.padStart(9)}${'p95'.padStart(9)}`,
    row('current', v.baseline, raw.baseline),
    row('canary', v.canary, raw.canary),
    ...v.reasons.map((r) => `  - ${r}`),
    `verdict: ${v.decision}`,
  ].join('\n');
}
