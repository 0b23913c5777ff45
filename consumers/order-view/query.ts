import type { Database } from '../../platform/database';
import type { OrderViewRow } from './projection';

/** What customer care sees for one order: where it stands, and every step that got it there. */
export interface OrderStep {
  type: string;
  occurredAt: string;
  summary: string;
  writtenVersion: number;
}

export interface OrderView {
  orderId: string;
  customerId: string | null;
  status: string;
  reason: string | null;
  escalatedWaitingFor: string | null;
  amounts: {
    currency: string | null;
    total: number | null;
    authorized: number;
    voided: number;
    captured: number;
    refunded: number;
  };
  itemCount: number | null;
  shipping: { carrier: string | null; trackingNumber: string | null };
  times: {
    submitted: string | null;
    confirmed: string | null;
    dispatched: string | null;
    finished: string | null;
    lastEvent: string;
  };
  steps: OrderStep[];
}

export async function findOrderView(db: Database, orderId: string): Promise<OrderView | undefined> {
  const row = await db.get<OrderViewRow>('SELECT * FROM order_view WHERE order_id = ?', [orderId]);
  if (!row) return undefined;
  const steps = await db.all<{ type: string; occurred_at: string; summary: string; written_version: number }>(
    // By business time; the apply sequence breaks ties (events of one operation share a time).
    'SELECT type, occurred_at, summary, written_version FROM order_view_steps WHERE order_id = ? ORDER BY occurred_at, seq',
    [orderId],
  );
  return {
    orderId: row.order_id,
    customerId: row.customer_id,
    status: row.status,
    reason: row.outcome_reason,
    escalatedWaitingFor: row.escalated_waiting_for,
    amounts: {
      currency: row.currency,
      total: row.total_amount === null ? null : Number(row.total_amount),
      authorized: Number(row.authorized_amount),
      voided: Number(row.voided_amount),
      captured: Number(row.captured_amount),
      refunded: Number(row.refunded_amount),
    },
    itemCount: row.item_count,
    shipping: { carrier: row.carrier, trackingNumber: row.tracking_number },
    times: {
      submitted: row.submitted_at,
      confirmed: row.confirmed_at,
      dispatched: row.dispatched_at,
      finished: row.finished_at,
      lastEvent: row.last_event_at,
    },
    steps: steps.map((s) => ({
      type: s.type,
      occurredAt: s.occurred_at,
      summary: s.summary,
      writtenVersion: Number(s.written_version),
    })),
  };
}

/** Orders of one customer, newest activity first: the usual entry point of a support call. */
export async function findOrdersOfCustomer(
  db: Database,
  customerId: string,
  limit = 50,
): Promise<Array<Pick<OrderViewRow, 'order_id' | 'status' | 'last_event_at'>>> {
  return db.all(
    'SELECT order_id, status, last_event_at FROM order_view WHERE customer_id = ? ORDER BY last_event_at DESC LIMIT ?',
    [customerId, limit],
  );
}
