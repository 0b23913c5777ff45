// Over 250 lines on purpose: one table's whole lifecycle (schema, open → acknowledged → resolved | repaired, queries) kept together.
import { emit } from '../activities/emit';
import { workflowIdFor } from '../domain/ids';
import type { Database, Sql } from '../platform/database';
import type { Migration } from '../platform/migrations';
import type { Candidate } from './checks';
import { ruleOf, type RuleId } from './rules';

/**
 * The findings store: one row per (rule, subject), in the ledgers' database so a finding and its
 * `ReconciliationFinding` event commit together. A finding is open → (acknowledged) → resolved by
 * an operator, or open → repaired by an automatic repair; found again after that, it reopens as
 * its next occurrence. Every transition is compare-and-set on the state it expects, so two runs
 * that overlap record, reopen and repair a finding once.
 */
export const reconciliationMigrations: Migration[] = [
  {
    id: 'reconciliation/001-findings',
    sql: `CREATE TABLE IF NOT EXISTS reconciliation_findings (
      id TEXT PRIMARY KEY,
      rule TEXT NOT NULL,
      subject TEXT NOT NULL,
      order_id TEXT,
      handling TEXT NOT NULL,
      state TEXT NOT NULL,
      occurrence INTEGER NOT NULL,
      summary TEXT NOT NULL,
      detail TEXT NOT NULL,
      first_seen_at BIGINT NOT NULL,
      last_seen_at BIGINT NOT NULL,
      last_run_id TEXT NOT NULL,
      acknowledged_at BIGINT,
      acknowledged_by TEXT,
      resolved_at BIGINT,
      resolved_by TEXT,
      resolution TEXT,
      repaired_at BIGINT,
      repair_key TEXT,
      repair_result TEXT
    );
    CREATE INDEX IF NOT EXISTS reconciliation_findings_state ON reconciliation_findings (state, rule);
    CREATE TABLE IF NOT EXISTS reconciliation_runs (
      run_id TEXT PRIMARY KEY,
      run_trigger TEXT NOT NULL,
      rules TEXT NOT NULL,
      started_at BIGINT NOT NULL,
      finished_at BIGINT,
      report TEXT
    );`,
  },
];

export type FindingState = 'open' | 'acknowledged' | 'repaired' | 'resolved';
const LIVE = `('open', 'acknowledged')`;

export interface Finding {
  id: string;
  rule: RuleId;
  subject: string;
  orderId: string | null;
  handling: 'automatic' | 'operator';
  state: FindingState;
  occurrence: number;
  summary: string;
  detail: Record<string, string | number | null>;
  firstSeenAt: number;
  lastSeenAt: number;
  lastRunId: string;
  acknowledged: { at: number; by: string } | null;
  resolved: { at: number; by: string; resolution: string } | null;
  repaired: { at: number; key: string; result: unknown } | null;
}

interface FindingRow {
  id: string;
  rule: RuleId;
  subject: string;
  order_id: string | null;
  handling: Finding['handling'];
  state: FindingState;
  occurrence: number;
  summary: string;
  detail: string;
  first_seen_at: number;
  last_seen_at: number;
  last_run_id: string;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  resolved_at: number | null;
  resolved_by: string | null;
  resolution: string | null;
  repaired_at: number | null;
  repair_key: string | null;
  repair_result: string | null;
}

const toFinding = (r: FindingRow): Finding => ({
  id: r.id,
  rule: r.rule,
  subject: r.subject,
  orderId: r.order_id,
  handling: r.handling,
  state: r.state,
  occurrence: Number(r.occurrence),
  summary: r.summary,
  detail: JSON.parse(r.detail) as Finding['detail'],
  firstSeenAt: Number(r.first_seen_at),
  lastSeenAt: Number(r.last_seen_at),
  lastRunId: r.last_run_id,
  acknowledged: r.acknowledged_at === null ? null : { at: Number(r.acknowledged_at), by: r.acknowledged_by ?? '' },
  resolved:
    r.resolved_at === null ? null : { at: Number(r.resolved_at), by: r.resolved_by ?? '', resolution: r.resolution ?? '' },
  repaired:
    r.repaired_at === null
      ? null
      : {
          at: Number(r.repaired_at),
          key: r.repair_key ?? '',
          result: r.repair_result && (JSON.parse(r.repair_result) as unknown),
        },
});

export const findingId = (rule: RuleId, subject: string) => `${rule}:${subject}`;

/** The finding's event, once per occurrence and state: its id comes from this causation key. */
async function announce(
  tx: Sql,
  f: Pick<Finding, 'id' | 'rule' | 'subject' | 'orderId' | 'handling' | 'summary'>,
  occurrence: number,
  state: 'found' | 'repaired' | 'resolved',
) {
  await emit(
    tx,
    'ReconciliationFinding',
    {
      orderId: f.subject,
      correlationId: f.orderId ? workflowIdFor(f.orderId) : 'reconciliation',
      causationId: `reconcile/${f.id}#${occurrence}/${state}`,
    },
    {
      findingId: f.id,
      rule: f.rule,
      subject: f.subject,
      ...(f.orderId ? { orderId: f.orderId } : {}),
      state,
      handling: f.handling,
      summary: f.summary,
    },
  );
}

export async function findingById(db: Sql, id: string): Promise<Finding | undefined> {
  const row = await db.get<FindingRow>('SELECT * FROM reconciliation_findings WHERE id = ?', [id]);
  return row && toFinding(row);
}

export async function listFindings(
  db: Sql,
  { states = ['open', 'acknowledged'], rule, limit = 200 }: { states?: FindingState[]; rule?: string; limit?: number } = {},
): Promise<Finding[]> {
  const params: Array<string | number> = [...states];
  let sql = `SELECT * FROM reconciliation_findings WHERE state IN (${states.map(() => '?').join(', ')})`;
  if (rule) {
    sql += ' AND rule = ?';
    params.push(rule);
  }
  sql += ' ORDER BY last_seen_at DESC, id LIMIT ?';
  params.push(limit);
  return (await db.all<FindingRow>(sql, params)).map(toFinding);
}

export interface Recorded {
  /** Findings first found (or found again) by this run. */
  found: string[];
  /** Live findings of this rule that the run did not see any more: closed as resolved by it. */
  cleared: string[];
}

/**
 * Records what one rule found in one run. `observedAt` is when the run looked: a finding repaired
 * or resolved after that is not reopened by an observation older than its repair.
 */
export async function recordFindings(
  db: Database,
  {
    runId,
    rule,
    candidates,
    deferred = [],
    observedAt,
    now = Date.now(),
  }: {
    runId: string;
    rule: RuleId;
    candidates: Candidate[];
    /** Subjects left for the next run (saga mid-step): their findings are neither recorded nor cleared. */
    deferred?: string[];
    observedAt: number;
    now?: number;
  },
): Promise<Recorded> {
  const { handling } = ruleOf(rule);
  const found: string[] = [];
  for (const c of candidates) {
    const id = findingId(rule, c.subject);
    const isNew = await db.transaction(async (tx) => {
      const fields = { id, rule, subject: c.subject, orderId: c.orderId ?? null, handling, summary: c.summary };
      const inserted = await tx.run(
        `INSERT INTO reconciliation_findings (id, rule, subject, order_id, handling, state, occurrence, summary, detail, first_seen_at, last_seen_at, last_run_id)
         VALUES (?, ?, ?, ?, ?, 'open', 1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        [id, rule, c.subject, c.orderId ?? null, handling, c.summary, JSON.stringify(c.detail), now, now, runId],
      );
      if (inserted.changes === 1) {
        await announce(tx, fields, 1, 'found');
        return true;
      }
      const current = await findingById(tx, id);
      if (!current) return false;
      if (current.state === 'open' || current.state === 'acknowledged') {
        await tx.run(
          `UPDATE reconciliation_findings SET summary = ?, detail = ?, last_seen_at = ?, last_run_id = ? WHERE id = ? AND state IN ${LIVE}`,
          [c.summary, JSON.stringify(c.detail), now, runId, id],
        );
        return false;
      }
      const closedAt = current.repaired?.at ?? current.resolved?.at ?? 0;
      if (closedAt >= observedAt) return false;
      const reopened = await tx.run(
        `UPDATE reconciliation_findings SET state = 'open', occurrence = occurrence + 1, summary = ?, detail = ?, first_seen_at = ?,
           last_seen_at = ?, last_run_id = ?, acknowledged_at = NULL, acknowledged_by = NULL, resolved_at = NULL, resolved_by = NULL,
           resolution = NULL, repaired_at = NULL, repair_key = NULL, repair_result = NULL
         WHERE id = ? AND state = ? AND occurrence = ?`,
        [c.summary, JSON.stringify(c.detail), now, now, runId, id, current.state, current.occurrence],
      );
      if (reopened.changes !== 1) return false;
      await announce(tx, fields, current.occurrence + 1, 'found');
      return true;
    });
    if (isNew) found.push(id);
  }
  const seen = new Set([...candidates.map((c) => c.subject), ...deferred].map((subject) => findingId(rule, subject)));
  const live = await db.all<{ id: string; last_seen_at: number }>(
    `SELECT id, last_seen_at FROM reconciliation_findings WHERE rule = ? AND state IN ${LIVE}`,
    [rule],
  );
  const cleared: string[] = [];
  for (const f of live) {
    // Seen by a run that looked later than this one: not this run's to clear.
    if (seen.has(f.id) || Number(f.last_seen_at) > observedAt) continue;
    const { changes } = await db.run(
      `UPDATE reconciliation_findings SET state = 'resolved', resolved_at = ?, resolved_by = 'reconciliation', resolution = 'no longer found'
       WHERE id = ? AND state IN ${LIVE} AND last_seen_at <= ?`,
      [now, f.id, observedAt],
    );
    if (changes === 1) cleared.push(f.id);
  }
  return { found, cleared };
}

/** Marks an automatic finding repaired, once: only the first of two overlapping repairs records it. */
export async function markRepaired(
  db: Database,
  {
    id,
    occurrence,
    key,
    result,
    now = Date.now(),
  }: { id: string; occurrence: number; key: string; result: unknown; now?: number },
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { changes } = await tx.run(
      `UPDATE reconciliation_findings SET state = 'repaired', repaired_at = ?, repair_key = ?, repair_result = ?
       WHERE id = ? AND state IN ${LIVE} AND occurrence = ?`,
      [now, key, JSON.stringify(result ?? null), id, occurrence],
    );
    if (changes !== 1) return false;
    const f = await findingById(tx, id);
    if (f) await announce(tx, f, occurrence, 'repaired');
    return true;
  });
}

export type OperatorAnswer = { ok: true; finding: Finding } | { ok: false; reason: 'unknown' | 'closed'; finding?: Finding };

/** The operator has seen it and is on it: it stays in the queue, marked. */
export async function acknowledgeFinding(db: Database, id: string, by: string, now = Date.now()): Promise<OperatorAnswer> {
  return db.transaction(async (tx) => {
    const f = await findingById(tx, id);
    if (!f) return { ok: false, reason: 'unknown' };
    if (f.state !== 'open')
      return f.state === 'acknowledged' ? { ok: true, finding: f } : { ok: false, reason: 'closed', finding: f };
    await tx.run(
      `UPDATE reconciliation_findings SET state = 'acknowledged', acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND state = 'open'`,
      [now, by, id],
    );
    return { ok: true, finding: (await findingById(tx, id)) as Finding };
  });
}

/** The operator fixed it; if a later run finds it again it reopens as a new occurrence. */
export async function resolveFinding(
  db: Database,
  id: string,
  { by, resolution }: { by: string; resolution: string },
  now = Date.now(),
): Promise<OperatorAnswer> {
  return db.transaction(async (tx) => {
    const f = await findingById(tx, id);
    if (!f) return { ok: false, reason: 'unknown' };
    const { changes } = await tx.run(
      `UPDATE reconciliation_findings SET state = 'resolved', resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ? AND state IN ${LIVE}`,
      [now, by, resolution, id],
    );
    if (changes !== 1) return { ok: false, reason: 'closed', finding: f };
    await announce(tx, f, f.occurrence, 'resolved');
    return { ok: true, finding: (await findingById(tx, id)) as Finding };
  });
}

export interface RunReport {
  runId: string;
  trigger: string;
  rules: RuleId[];
  /** Live findings (open or acknowledged, every rule) after the run. */
  findings: number;
  found: string[];
  repaired: string[];
  cleared: string[];
  /** Candidates left for the next run because their saga was mid-step or compensating. */
  deferred: number;
}

export async function beginRun(db: Database, runId: string, trigger: string, rules: RuleId[], now = Date.now()): Promise<void> {
  await db.run(
    'INSERT INTO reconciliation_runs (run_id, run_trigger, rules, started_at) VALUES (?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING',
    [runId, trigger, JSON.stringify(rules), now],
  );
}

export async function finishRun(db: Database, report: RunReport, now = Date.now()): Promise<void> {
  await db.run('UPDATE reconciliation_runs SET finished_at = ?, report = ? WHERE run_id = ?', [
    now,
    JSON.stringify(report),
    report.runId,
  ]);
}

export async function lastRuns(
  db: Sql,
  limit = 5,
): Promise<Array<{ runId: string; trigger: string; startedAt: number; finishedAt: number | null; report: RunReport | null }>> {
  const rows = await db.all<{
    run_id: string;
    run_trigger: string;
    started_at: number;
    finished_at: number | null;
    report: string | null;
  }>('SELECT run_id, run_trigger, started_at, finished_at, report FROM reconciliation_runs ORDER BY started_at DESC LIMIT ?', [
    limit,
  ]);
  return rows.map((r) => ({
    runId: r.run_id,
    trigger: r.run_trigger,
    startedAt: Number(r.started_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    report: r.report ? (JSON.parse(r.report) as RunReport) : null,
  }));
}

/** Live findings by rule, state and handling: the metric gauges read this at scrape time. */
export async function findingCounts(db: Sql): Promise<Array<{ rule: string; state: string; handling: string; n: number }>> {
  const rows = await db.all<{ rule: string; state: string; handling: string; n: number }>(
    `SELECT rule, state, handling, COUNT(*) AS n FROM reconciliation_findings WHERE state IN ${LIVE} GROUP BY rule, state, handling`,
  );
  return rows.map((r) => ({ ...r, n: Number(r.n) }));
}
