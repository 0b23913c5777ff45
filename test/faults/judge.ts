import { WorkflowNotFoundError } from '@temporalio/client';
import { workflowIdFor } from '../../domain/ids';
import { createReconciliationActivities } from '../../reconciliation/activities';
import { listFindings } from '../../reconciliation/findings';
import { rules, type RuleId } from '../../reconciliation/rules';
import { SagaStatusAttribute } from '../../workflows/definitions';
import { judgeDelivery, type ForeignMessage } from './delivery';
import type { World } from './world';

/**
 * The verdict on a case after its faults: every saga ended in a state it was allowed to end in
 * (else it is lost), no participant applied an effect twice (one row per effect and order, one
 * event per type and order, stock reserved equal to the reservations holding it), the event
 * pipeline delivered everything once and in order and the consumers applied it once
 * (delivery.ts: an event that never arrived or was never applied is lost, one applied twice is
 * duplicated, one out of order a discrepancy), and reconciliation, every rule, finds nothing.
 */
export interface Verdict {
  lost: number;
  duplicated: number;
  discrepancies: number;
  /** When the last saga ended and the pipeline had delivered everything (ms since the epoch), or the deadline. */
  settledAt: number;
  notes: string[];
  /** Kafka messages that repeated an event already delivered (at-least-once; deduped by the consumers). */
  redelivered: number;
  /** Messages on the world's topics that are no outbox row's (an outside producer's). */
  foreign: ForeignMessage[];
}

/** Every rule: with the pipeline drained, an unsent row or a view behind the ledgers is a finding at once. */
const JUDGING_RULES: RuleId[] = rules.map((r) => r.id);

async function endedAs(world: World, orderId: string): Promise<string | undefined> {
  try {
    const d = await world.client.workflow.getHandle(workflowIdFor(orderId)).describe();
    if (d.status.name === 'RUNNING') return undefined;
    return d.typedSearchAttributes.get(SagaStatusAttribute) ?? d.status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'NOT_STARTED';
    throw err;
  }
}

export async function judge(
  world: World,
  expected: Map<string, readonly string[]>,
  deadlineMs: number,
  /** How many messages the case itself wrote to the topics from outside (poison). */
  { foreign = 0 }: { foreign?: number } = {},
): Promise<Verdict> {
  const notes: string[] = [];
  const ended = new Map<string, string>();
  const deadline = Date.now() + deadlineMs;
  let settledAt = Date.now();
  while (ended.size < expected.size && Date.now() < deadline) {
    for (const orderId of expected.keys()) {
      if (ended.has(orderId)) continue;
      const status = await endedAs(world, orderId);
      if (status) {
        ended.set(orderId, status);
        settledAt = Date.now();
      }
    }
    if (ended.size < expected.size) await new Promise((r) => setTimeout(r, 250));
  }
  let lost = 0;
  for (const [orderId, allowed] of expected) {
    const status = ended.get(orderId);
    if (!status || !allowed.includes(status)) {
      lost += 1;
      notes.push(`${orderId}: ${status ?? 'still running'} (expected ${allowed.join(' or ')})`);
    }
  }
  if (ended.size < expected.size) settledAt = deadline;

  let duplicated = 0;
  const twice = await world.db.all<{ order_id: string; what: string; n: number }>(
    `SELECT order_id, 'reservation' AS what, COUNT(*) AS n FROM stock_reservations GROUP BY order_id HAVING COUNT(*) > 1
     UNION ALL SELECT order_id, 'release', COUNT(*) FROM stock_releases WHERE reservation_id IS NOT NULL GROUP BY order_id HAVING COUNT(*) > 1
     UNION ALL SELECT order_id, 'authorization', COUNT(*) FROM payment_authorizations GROUP BY order_id HAVING COUNT(*) > 1
     UNION ALL SELECT order_id, 'void', COUNT(*) FROM payment_voids WHERE authorization_id IS NOT NULL GROUP BY order_id HAVING COUNT(*) > 1
     UNION ALL SELECT order_id, 'capture', COUNT(*) FROM payment_captures GROUP BY order_id HAVING COUNT(*) > 1
     UNION ALL SELECT order_id, 'refund', COUNT(*) FROM payment_refunds WHERE refund_id IS NOT NULL GROUP BY order_id HAVING COUNT(*) > 1
     UNION ALL SELECT order_id, 'shipment', COUNT(*) FROM shipments GROUP BY order_id HAVING COUNT(*) > 1
     UNION ALL SELECT msg_key, type, COUNT(*) FROM outbox WHERE type <> 'ReconciliationFinding' GROUP BY msg_key, type HAVING COUNT(*) > 1`,
  );
  for (const t of twice) {
    duplicated += Number(t.n) - 1;
    notes.push(`${t.order_id}: ${t.what} applied ${Number(t.n)} times`);
  }
  // The reservation's lines are JSON text; each store reads its first line its own way.
  const [quantity, sku] =
    world.db.dialect === 'postgres'
      ? ["(r.lines::json)->0->>'quantity'", "(r.lines::json)->0->>'sku'"]
      : ["json_extract(r.lines, '$[0].quantity')", "json_extract(r.lines, '$[0].sku')"];
  const stock = await world.db.all<{ sku: string; reserved: number; held: number | null }>(
    `SELECT l.sku, l.reserved, (SELECT SUM(CAST(${quantity} AS INTEGER)) FROM stock_reservations r
       WHERE r.status = 'reserved' AND ${sku} = l.sku) AS held FROM stock_levels l`,
  );
  for (const s of stock) {
    if (Number(s.reserved) !== Number(s.held ?? 0)) {
      duplicated += 1;
      notes.push(`${s.sku}: ${Number(s.reserved)} reserved but reservations hold ${Number(s.held ?? 0)}`);
    }
  }

  // The pipeline gets its own deadline after the sagas: a fault may have held it back longer.
  const delivery = await judgeDelivery(world, { deadlineMs: Math.max(120_000, deadlineMs / 2) });
  settledAt = Math.max(settledAt, delivery.drainedAt);
  lost += delivery.lost;
  duplicated += delivery.duplicated;
  let discrepancies = delivery.discrepancies;
  notes.push(...delivery.notes);
  if (delivery.foreign.length !== foreign) {
    discrepancies += Math.abs(delivery.foreign.length - foreign);
    notes.push(`${delivery.foreign.length} message(s) on the topics are no outbox row's (the case wrote ${foreign})`);
  }

  // Drained: nothing may be unsent, and the order view must agree with the ledgers now.
  const reconciliation = createReconciliationActivities({
    db: world.db,
    client: world.client,
    settings: { outboxLagBudgetSeconds: 0, viewSettleSeconds: 0, slaGraceSeconds: 60 },
  });
  const runId = `faults-${world.taskQueue}`;
  for (const rule of JUDGING_RULES) await reconciliation.checkRule({ runId, rule });
  const findings = await listFindings(world.db);
  for (const f of findings) notes.push(`reconciliation: ${f.id}: ${f.summary}`);
  discrepancies += findings.length;
  return { lost, duplicated, discrepancies, settledAt, notes, redelivered: delivery.redelivered, foreign: delivery.foreign };
}
