import type { Money } from '../../domain/money';
import type { Sql } from '../../platform/database';
import { expectOneChanged } from '../tcc';

/** SQL of the orders ledger; every function runs inside the caller's transaction. */
export type OrderStatus = 'SUBMITTED' | 'CONFIRMED' | 'COMPLETED' | 'REJECTED' | 'CANCELLED' | 'FAILED';

export interface OrderRow {
  order_id: string;
  customer_id: string;
  status: OrderStatus;
  total_amount: number;
  currency: string;
  reason: string | null;
}

export interface Transition {
  orderId: string;
  status: string;
  reason: string | null;
  /** False when there was nothing to change (e.g. cancelling an order never submitted). */
  applied: boolean;
}

export async function findTransition(tx: Sql, key: string): Promise<Transition | undefined> {
  const row = await tx.get<{ order_id: string; status: string; reason: string | null; applied: number }>(
    'SELECT order_id, status, reason, applied FROM order_transitions WHERE idempotency_key = ?',
    [key],
  );
  return row && { orderId: row.order_id, status: row.status, reason: row.reason, applied: row.applied === 1 };
}

export async function recordTransition(tx: Sql, key: string, t: Transition): Promise<Transition> {
  await tx.run('INSERT INTO order_transitions (idempotency_key, order_id, status, reason, applied) VALUES (?, ?, ?, ?, ?)', [
    key,
    t.orderId,
    t.status,
    t.reason,
    t.applied ? 1 : 0,
  ]);
  return t;
}

export const findOrder = (tx: Sql, orderId: string) => tx.get<OrderRow>('SELECT * FROM orders WHERE order_id = ?', [orderId]);

export async function insertOrder(tx: Sql, o: { orderId: string; customerId: string; total: Money }): Promise<void> {
  await tx.run(
    `INSERT INTO orders (order_id, customer_id, status, total_amount, currency) VALUES (?, ?, 'SUBMITTED', ?, ?)
     ON CONFLICT (order_id) DO NOTHING`,
    [o.orderId, o.customerId, o.total.amount, o.total.currency],
  );
}

/** Compare-and-set: moves the order from `from` to `to`; LostRace if it is no longer `from`. */
export async function moveOrder(
  tx: Sql,
  orderId: string,
  from: OrderStatus,
  to: OrderStatus,
  reason: string | null = null,
): Promise<void> {
  expectOneChanged(
    await tx.run('UPDATE orders SET status = ?, reason = ? WHERE order_id = ? AND status = ?', [to, reason, orderId, from]),
    `order ${orderId} ${from} -> ${to}`,
  );
}

/** The key of the cancellation that ended this order unfulfilled, if one did. */
export async function cancelledBy(tx: Sql, orderId: string): Promise<string | undefined> {
  const row = await tx.get<{ idempotency_key: string }>(
    "SELECT idempotency_key FROM order_transitions WHERE order_id = ? AND applied = 1 AND status IN ('REJECTED', 'CANCELLED', 'FAILED')",
    [orderId],
  );
  return row?.idempotency_key;
}
