import { workflowIdFor } from '../../../domain/ids';
import type { Database } from '../../../platform/database';

/**
 * Rows written straight into the ledgers, the outbox and the order view, as no saga would leave
 * them: each builder writes one piece of an order, so a test composes the impossible combination
 * it is about. Keys follow the saga's (`order-<id>/<step>`), as a repair relies on them.
 */
const key = (orderId: string, step: string) => `${workflowIdFor(orderId)}/${step}`;
const EUR = 'EUR';

export const seed = (db: Database) => ({
  order: (orderId: string, status: string, amount = 3000) =>
    db.run("INSERT INTO orders (order_id, customer_id, status, total_amount, currency) VALUES (?, 'cust-r', ?, ?, ?)", [
      orderId,
      status,
      amount,
      EUR,
    ]),
  authorization: (orderId: string, status: string, amount = 3000) =>
    db.run(
      "INSERT INTO payment_authorizations (authorization_id, idempotency_key, order_id, amount, currency, method_token, status) VALUES (?, ?, ?, ?, ?, 'tok_visa', ?)",
      [`auth-${orderId}`, key(orderId, 'authorizePayment'), orderId, amount, EUR, status],
    ),
  capture: (orderId: string, amount = 3000) =>
    db.run(
      'INSERT INTO payment_captures (capture_id, idempotency_key, order_id, authorization_id, amount, currency) VALUES (?, ?, ?, ?, ?, ?)',
      [`cap-${orderId}`, key(orderId, 'capturePayment'), orderId, `auth-${orderId}`, amount, EUR],
    ),
  refund: (orderId: string, captureId: string, amount = 3000) =>
    db.run(
      'INSERT INTO payment_refunds (idempotency_key, order_id, refund_id, capture_id, amount, currency) VALUES (?, ?, ?, ?, ?, ?)',
      [key(orderId, 'refundPayment'), orderId, `ref-${orderId}`, captureId, amount, EUR],
    ),
  voided: (orderId: string, amount = 3000) =>
    db.run('INSERT INTO payment_voids (idempotency_key, order_id, authorization_id, amount) VALUES (?, ?, ?, ?)', [
      key(orderId, 'voidAuthorization'),
      orderId,
      `auth-${orderId}`,
      amount,
    ]),
  /** A reservation of `quantity` of `sku`; when `reserved`, the stock level holds it too. */
  reservation: async (orderId: string, status: 'reserved' | 'released', sku: string, quantity = 2) => {
    await db.run('INSERT INTO stock_levels (sku, on_hand, reserved) VALUES (?, 10, ?)', [
      sku,
      status === 'reserved' ? quantity : 0,
    ]);
    await db.run(
      'INSERT INTO stock_reservations (reservation_id, idempotency_key, order_id, status, lines) VALUES (?, ?, ?, ?, ?)',
      [`res-${orderId}`, key(orderId, 'reserveStock'), orderId, status, JSON.stringify([{ sku, quantity }])],
    );
  },
  shipment: (orderId: string, status: string) =>
    db.run(
      "INSERT INTO shipments (shipment_id, idempotency_key, order_id, status, carrier, country, recipient) VALUES (?, ?, ?, ?, 'UPS', 'US', '{}')",
      [`shp-${orderId}`, key(orderId, 'allocateShipment'), orderId, status],
    ),
  /** An outbox row appended `ageSeconds` ago; sent that long ago too unless `unsent`. */
  outboxRow: (
    orderId: string,
    type: string,
    ageSeconds: number,
    { unsent = false, topic = 'trapeze.orders', data = {} }: { unsent?: boolean; topic?: string; data?: object } = {},
  ) => {
    const at = Date.now() - ageSeconds * 1000;
    return db.run('INSERT INTO outbox (id, topic, msg_key, type, envelope, created_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      `${orderId}-${type}-${ageSeconds}`,
      topic,
      orderId,
      type,
      JSON.stringify({ data }),
      at,
      unsent ? null : at,
    ]);
  },
  view: (
    orderId: string,
    status: string,
    amounts: { total?: number; authorized?: number; voided?: number; captured?: number } = {},
  ) =>
    db.run(
      `INSERT INTO order_view (order_id, customer_id, status, status_rank, currency, total_amount, authorized_amount, voided_amount,
         captured_amount, first_event_at, last_event_at, events_applied, updated_at)
       VALUES (?, 'cust-r', ?, 100, 'EUR', ?, ?, ?, ?, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 1, 0)`,
      [orderId, status, amounts.total ?? 3000, amounts.authorized ?? 0, amounts.voided ?? 0, amounts.captured ?? 0],
    ),
});

export async function countEvents(db: Database, orderId: string, type: string): Promise<number> {
  const row = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox WHERE msg_key = ? AND type = ?', [orderId, type]);
  return Number(row?.n ?? 0);
}

export async function findingEvents(db: Database, findingId: string): Promise<string[]> {
  const rows = await db.all<{ envelope: string }>(
    "SELECT envelope FROM outbox WHERE type = 'ReconciliationFinding' ORDER BY seq",
  );
  return rows
    .map((r) => JSON.parse(r.envelope) as { data: { findingId: string; state: string } })
    .filter((e) => e.data.findingId === findingId)
    .map((e) => e.data.state);
}
