// Over 250 lines on purpose: one SQL check per rule, side by side, so the rules read as data.
import { formatMoney } from '../domain/money';
import { idempotencyKey, workflowIdFor } from '../domain/ids';
import type { Database } from '../platform/database';
import { SLA_SECONDS } from '../workflows/definitions';
import type { RuleId } from './rules';

/**
 * The checks behind the rules: SQL over the participants' ledgers and the outbox (one database),
 * and the order view (its own database, possibly the same). Each returns candidates; the run then
 * sets them against the sagas (reconciliation/sagas.ts) before they become findings.
 */
export interface Candidate {
  /** What the finding is about: an order id, or a topic for outbox findings. */
  subject: string;
  orderId?: string;
  summary: string;
  /** What a repair needs (keys of the ledger rows), and what an operator wants to see. */
  detail: Record<string, string | number | null>;
}

export interface CheckSettings {
  /** An unsent outbox row older than this is a finding. */
  outboxLagBudgetSeconds: number;
  /** Events sent this recently may not have reached the order view yet. */
  viewSettleSeconds: number;
  /** Slack on top of an SLA before a missing escalation is a finding (timers fire a little late). */
  slaGraceSeconds: number;
}

export interface CheckContext {
  db: Database;
  viewDb: Database;
  now: number;
  settings: CheckSettings;
}

const CLOSED = `('REJECTED', 'CANCELLED', 'FAILED')`;
const money = (amount: number | null, currency: string | null) =>
  amount === null || currency === null ? 'no amount' : formatMoney({ amount: Number(amount), currency });

async function confirmedWithoutStock({ db }: CheckContext): Promise<Candidate[]> {
  const rows = await db.all<{ order_id: string; status: string }>(
    `SELECT o.order_id, o.status FROM orders o
     WHERE o.status IN ('CONFIRMED', 'COMPLETED')
       AND NOT EXISTS (SELECT 1 FROM stock_reservations r WHERE r.order_id = o.order_id AND r.status = 'reserved')
     ORDER BY o.order_id`,
  );
  return rows.map((r) => ({
    subject: r.order_id,
    orderId: r.order_id,
    summary: `order ${r.order_id} is ${r.status} but no stock is reserved for it`,
    detail: { orderStatus: r.status },
  }));
}

async function capturedWithoutShipment({ db }: CheckContext): Promise<Candidate[]> {
  const rows = await db.all<{ order_id: string; capture_id: string; amount: number; currency: string }>(
    `SELECT c.order_id, c.capture_id, c.amount, c.currency FROM payment_captures c
     JOIN payment_authorizations a ON a.authorization_id = c.authorization_id
     WHERE a.status = 'captured'
       AND NOT EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = c.order_id AND s.status IN ('allocated', 'dispatched'))
     ORDER BY c.order_id`,
  );
  return rows.map((r) => ({
    subject: r.order_id,
    orderId: r.order_id,
    summary: `capture ${r.capture_id} (${money(r.amount, r.currency)}) has no allocated or dispatched shipment`,
    detail: { captureId: r.capture_id },
  }));
}

async function authorizedCancelledNotVoided({ db }: CheckContext): Promise<Candidate[]> {
  const rows = await db.all<{
    order_id: string;
    authorization_id: string;
    idempotency_key: string;
    amount: number;
    currency: string;
    status: string;
    order_status: string;
  }>(
    `SELECT a.order_id, a.authorization_id, a.idempotency_key, a.amount, a.currency, a.status, o.status AS order_status
     FROM payment_authorizations a JOIN orders o ON o.order_id = a.order_id
     WHERE a.status IN ('authorized', 'pending') AND o.status IN ${CLOSED}
     ORDER BY a.order_id`,
  );
  return rows.map((r) => ({
    subject: r.order_id,
    orderId: r.order_id,
    summary: `authorization ${r.authorization_id} (${money(r.amount, r.currency)}) still ${r.status} for an order ${r.order_status}`,
    detail: { authorizationId: r.authorization_id, authorizeKey: r.idempotency_key },
  }));
}

async function refundedWithoutCapture({ db }: CheckContext): Promise<Candidate[]> {
  const rows = await db.all<{ order_id: string; what: string; amount: number | null; currency: string | null }>(
    `SELECT r.order_id, 'refund ' || r.refund_id AS what, r.amount, r.currency FROM payment_refunds r
     WHERE r.refund_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM payment_captures c WHERE c.capture_id = r.capture_id)
     UNION ALL
     SELECT a.order_id, 'authorization ' || a.authorization_id || ' marked refunded' AS what, a.amount, a.currency
     FROM payment_authorizations a
     WHERE a.status = 'refunded' AND NOT EXISTS (SELECT 1 FROM payment_captures c WHERE c.authorization_id = a.authorization_id)
     ORDER BY 1`,
  );
  const byOrder = new Map<string, Candidate>();
  for (const r of rows) {
    byOrder.set(r.order_id, {
      subject: r.order_id,
      orderId: r.order_id,
      summary: `${r.what} (${money(r.amount, r.currency)}) without a capture`,
      detail: {},
    });
  }
  return [...byOrder.values()];
}

async function stockReservedClosedOrder({ db }: CheckContext): Promise<Candidate[]> {
  const rows = await db.all<{ order_id: string; reservation_id: string; idempotency_key: string; order_status: string }>(
    `SELECT r.order_id, r.reservation_id, r.idempotency_key, o.status AS order_status
     FROM stock_reservations r JOIN orders o ON o.order_id = r.order_id
     WHERE r.status = 'reserved' AND o.status IN ${CLOSED}
     ORDER BY r.order_id`,
  );
  return rows.map((r) => ({
    subject: r.order_id,
    orderId: r.order_id,
    summary: `reservation ${r.reservation_id} still holds stock for an order ${r.order_status}`,
    detail: { reservationId: r.reservation_id, reserveKey: r.idempotency_key },
  }));
}

/**
 * Orders waiting longer than the saga's SLA with no escalation in the orders ledger. When the wait
 * began is the outbox row of the event that started it (the participant's own clock, in the same
 * database); sagas are asked afterwards whether they escalated.
 */
async function sagaPastSla({ db, now, settings }: CheckContext): Promise<Candidate[]> {
  const waits = [
    {
      waitingFor: 'dispatch' as const,
      slaSeconds: SLA_SECONDS.dispatch,
      sql: `SELECT o.order_id, MAX(e.created_at) AS since FROM orders o
            JOIN outbox e ON e.msg_key = o.order_id AND e.type IN ('OrderConfirmed', 'PaymentCaptured')
            WHERE o.status = 'CONFIRMED'
              AND NOT EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.order_id AND s.status = 'dispatched')
              AND NOT EXISTS (SELECT 1 FROM order_transitions t WHERE t.idempotency_key = 'order-' || o.order_id || '/escalate-dispatch')
            GROUP BY o.order_id HAVING MAX(e.created_at) < ? ORDER BY o.order_id`,
    },
    {
      waitingFor: 'payment' as const,
      slaSeconds: SLA_SECONDS.paymentResult,
      sql: `SELECT a.order_id, MAX(e.created_at) AS since FROM payment_authorizations a
            JOIN outbox e ON e.msg_key = a.order_id AND e.type = 'PaymentAuthorizationPending'
            WHERE a.status = 'pending'
              AND NOT EXISTS (SELECT 1 FROM order_transitions t WHERE t.idempotency_key = 'order-' || a.order_id || '/escalate-payment')
            GROUP BY a.order_id HAVING MAX(e.created_at) < ? ORDER BY a.order_id`,
    },
  ];
  const out: Candidate[] = [];
  for (const w of waits) {
    const rows = await db.all<{ order_id: string; since: number }>(w.sql, [
      now - (w.slaSeconds + settings.slaGraceSeconds) * 1000,
    ]);
    for (const r of rows) {
      const waited = Math.round((now - Number(r.since)) / 1000);
      out.push({
        subject: r.order_id,
        orderId: r.order_id,
        summary: `waiting for ${w.waitingFor} for ${waited} s (SLA ${w.slaSeconds} s) and not escalated`,
        detail: {
          waitingFor: w.waitingFor,
          slaSeconds: w.slaSeconds,
          since: Number(r.since),
          escalateKey: idempotencyKey(workflowIdFor(r.order_id), `escalate-${w.waitingFor}`),
        },
      });
    }
  }
  return out;
}

async function outboxLag({ db, now, settings }: CheckContext): Promise<Candidate[]> {
  const rows = await db.all<{ topic: string; n: number; oldest: number; reason: string | null }>(
    // outbox_queue lists the unsent rows (a table on PostgreSQL, a view of sent_at IS NULL on SQLite).
    `SELECT o.topic, COUNT(*) AS n, MIN(o.created_at) AS oldest, MAX(p.reason) AS reason
     FROM outbox_queue q JOIN outbox o ON o.seq = q.seq LEFT JOIN outbox_pauses p ON p.topic = o.topic
     WHERE o.created_at < ?
     GROUP BY o.topic ORDER BY o.topic`,
    [now - settings.outboxLagBudgetSeconds * 1000],
  );
  return rows.map((r) => ({
    subject: r.topic,
    summary: `${Number(r.n)} row(s) unsent for up to ${Math.round((now - Number(r.oldest)) / 1000)} s (budget ${settings.outboxLagBudgetSeconds} s)${r.reason ? `; topic paused: ${r.reason}` : ''}`,
    detail: { topic: r.topic, unsent: Number(r.n), oldestCreatedAt: Number(r.oldest), pausedReason: r.reason },
  }));
}

interface LedgerTotals {
  order_id: string;
  status: string;
  total_amount: number;
  voided: number | null;
  captured: number | null;
  refunded: number | null;
}
interface ViewTotals {
  order_id: string;
  status: string;
  total_amount: number | null;
  authorized_amount: number;
  voided_amount: number;
  captured_amount: number;
  refunded_amount: number;
}
const TERMINAL = new Set(['COMPLETED', 'REJECTED', 'CANCELLED', 'FAILED']);

/**
 * Orders whose every event left the outbox more than the settle time ago: the order view should
 * hold exactly what the ledgers say (terminal status, total, money authorized, voided, captured,
 * refunded). Orders whose outbox rows were pruned are not compared (past retention).
 */
async function orderViewDisagrees({ db, viewDb, now, settings }: CheckContext): Promise<Candidate[]> {
  const settled = await db.all<{ order_id: string }>(
    // outbox_sent: when each row was published (a table on PostgreSQL, a view of the outbox on SQLite).
    `SELECT o.msg_key AS order_id FROM outbox o LEFT JOIN outbox_sent s ON s.seq = o.seq
     WHERE o.topic <> 'trapeze.reconciliation' GROUP BY o.msg_key
     HAVING SUM(CASE WHEN s.sent_at IS NULL OR s.sent_at > ? THEN 1 ELSE 0 END) = 0 ORDER BY o.msg_key`,
    [now - settings.viewSettleSeconds * 1000],
  );
  const out: Candidate[] = [];
  for (let i = 0; i < settled.length; i += 500) {
    const ids = settled.slice(i, i + 500).map((r) => r.order_id);
    const list = ids.map(() => '?').join(', ');
    const ledger = await db.all<LedgerTotals>(
      `SELECT o.order_id, o.status, o.total_amount,
         (SELECT SUM(v.amount) FROM payment_voids v WHERE v.order_id = o.order_id AND v.authorization_id IS NOT NULL) AS voided,
         (SELECT SUM(c.amount) FROM payment_captures c WHERE c.order_id = o.order_id) AS captured,
         (SELECT SUM(r.amount) FROM payment_refunds r WHERE r.order_id = o.order_id AND r.refund_id IS NOT NULL) AS refunded
       FROM orders o WHERE o.order_id IN (${list})`,
      ids,
    );
    // Authorized money comes from the payments participant's PaymentAuthorized events, committed
    // with its ledger rows: the ledger keeps only an authorization's current status, and a voided
    // one may have been voided while still pending (never authorized).
    const authorized = new Map<string, number>();
    for (const e of await db.all<{ msg_key: string; envelope: string }>(
      `SELECT msg_key, envelope FROM outbox WHERE type = 'PaymentAuthorized' AND msg_key IN (${list})`,
      ids,
    )) {
      const amount = (JSON.parse(e.envelope) as { data?: { amount?: { amount?: number } } }).data?.amount?.amount ?? 0;
      authorized.set(e.msg_key, (authorized.get(e.msg_key) ?? 0) + amount);
    }
    const views = new Map(
      (
        await viewDb.all<ViewTotals>(
          `SELECT order_id, status, total_amount, authorized_amount, voided_amount, captured_amount, refunded_amount
           FROM order_view WHERE order_id IN (${list})`,
          ids,
        )
      ).map((v) => [v.order_id, v]),
    );
    for (const l of ledger) {
      const v = views.get(l.order_id);
      const differences: string[] = [];
      if (!v) differences.push('no order view row');
      else {
        if (TERMINAL.has(l.status) || TERMINAL.has(v.status)) {
          if (l.status !== v.status) differences.push(`status ${v.status} in the view, ${l.status} in the ledger`);
        }
        const pairs: Array<[string, number | null, number | null]> = [
          ['total', l.total_amount, v.total_amount],
          ['authorized', authorized.get(l.order_id) ?? 0, v.authorized_amount],
          ['voided', l.voided ?? 0, v.voided_amount],
          ['captured', l.captured ?? 0, v.captured_amount],
          ['refunded', l.refunded ?? 0, v.refunded_amount],
        ];
        for (const [what, ledgerAmount, viewAmount] of pairs) {
          if (Number(ledgerAmount ?? 0) !== Number(viewAmount ?? 0))
            differences.push(`${what} ${Number(viewAmount ?? 0)} in the view, ${Number(ledgerAmount ?? 0)} in the ledger`);
        }
      }
      if (differences.length === 0) continue;
      out.push({
        subject: l.order_id,
        orderId: l.order_id,
        summary: `order view of ${l.order_id}: ${differences.join('; ')}`,
        detail: { differences: differences.join('; ') },
      });
    }
  }
  return out;
}

/** Past dispatch the saga must capture whatever happens; a closed saga that did not is a finding. */
async function dispatchedNotCaptured({ db }: CheckContext): Promise<Candidate[]> {
  const rows = await db.all<{ order_id: string; authorization_id: string; status: string; amount: number; currency: string }>(
    `SELECT s.order_id, a.authorization_id, a.status, a.amount, a.currency FROM shipments s
     JOIN payment_authorizations a ON a.order_id = s.order_id
     WHERE s.status = 'dispatched' AND a.status IN ('authorized', 'pending')
     ORDER BY s.order_id`,
  );
  return rows.map((r) => ({
    subject: r.order_id,
    orderId: r.order_id,
    summary: `shipment dispatched but authorization ${r.authorization_id} (${money(r.amount, r.currency)}) is still ${r.status}, never captured`,
    detail: { authorizationId: r.authorization_id },
  }));
}

export const checks: Record<RuleId, (ctx: CheckContext) => Promise<Candidate[]>> = {
  'confirmed-without-stock': confirmedWithoutStock,
  'captured-without-shipment': capturedWithoutShipment,
  'authorized-cancelled-not-voided': authorizedCancelledNotVoided,
  'refunded-without-capture': refundedWithoutCapture,
  'stock-reserved-closed-order': stockReservedClosedOrder,
  'saga-past-sla': sagaPastSla,
  'outbox-lag': outboxLag,
  'order-view-disagrees': orderViewDisagrees,
  'dispatched-not-captured': dispatchedNotCaptured,
};
