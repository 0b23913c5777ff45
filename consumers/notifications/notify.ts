import type { Logger } from 'pino';
import { formatMoney } from '../../domain/money';
import type { Database, Sql } from '../../platform/database';
import type { ApplyEvent } from '../event-consumer';
import type { KillSwitch } from './kill-switch';
import type { Notification, NotificationSender } from './sender';

/**
 * Customers hear "order confirmed" from `OrderConfirmed` and from nothing earlier: submission,
 * authorization or reservation can still be undone, confirmation is the saga's promise.
 */
export interface OrderConfirmedData {
  orderId: string;
  customerId: string;
  customer: { name: string; email: string };
  total: { amount: number; currency: string };
}

export function orderConfirmedNotification(eventId: string, order: OrderConfirmedData): Notification {
  return {
    // One event, one notification: its id is the event's, so a redelivery cannot make a second.
    id: `order-confirmed:${eventId}`,
    kind: 'order-confirmed',
    orderId: order.orderId,
    customerId: order.customerId,
    recipient: order.customer.email,
    subject: `Your order ${order.orderId} is confirmed`,
    body: `Hello ${order.customer.name}, your order ${order.orderId} (${formatMoney(order.total)}) is confirmed and on its way to the warehouse.`,
  };
}

export interface NotifyDeps {
  db: Database;
  sender: NotificationSender;
  killSwitch: KillSwitch;
  log: Logger;
}

/**
 * In the consumer's transaction the decision is recorded: `pending` (to send) or `suppressed`
 * (the kill switch is on). The sending itself runs after the commit, outside any transaction
 * (`deliverNotification`); what a crash leaves `pending` is sent by `deliverPending`.
 */
export function notifyOnEvents(deps: NotifyDeps): ApplyEvent {
  return async (tx, event) => {
    if (event.type !== 'OrderConfirmed') return;
    const n = orderConfirmedNotification(event.envelope.id, event.data as OrderConfirmedData);
    const suppressed = await deps.killSwitch.isOn(tx);
    if (!(await record(tx, n, event.envelope.id, suppressed ? 'suppressed' : 'pending'))) return;
    if (suppressed) {
      deps.log.info(
        { notificationId: n.id, orderId: n.orderId },
        'notification suppressed by the kill switch; kept for resending',
      );
      return;
    }
    return () => deliverNotification(deps, n);
  };
}

/** Sends one `pending` notification and marks it sent; false when another sender got there first. */
export async function deliverNotification(deps: Pick<NotifyDeps, 'db' | 'sender'>, n: Notification): Promise<boolean> {
  const still = await deps.db.get(`SELECT 1 AS pending FROM notifications WHERE id = ? AND status = 'pending'`, [n.id]);
  if (!still) return false;
  await deps.sender.deliver(n);
  const { changes } = await deps.db.run(
    `UPDATE notifications SET status = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ? AND status = 'pending'`,
    [Date.now(), n.id],
  );
  return changes === 1;
}

/**
 * Sends what is `pending`: decisions whose delivery failed (gateway down) or whose process died
 * between the commit and the delivery. Skipped while the kill switch is on.
 */
export async function deliverPending(
  deps: Pick<NotifyDeps, 'db' | 'sender' | 'killSwitch' | 'log'>,
  { olderThanMs = 30_000, limit = 500 } = {},
): Promise<number> {
  if (await deps.db.transaction((tx) => deps.killSwitch.isOn(tx))) return 0;
  const rows = await deps.db.all<{ message: string }>(
    `SELECT message FROM notifications WHERE status = 'pending' AND decided_at < ? ORDER BY decided_at, id LIMIT ?`,
    [Date.now() - olderThanMs, limit],
  );
  let sent = 0;
  for (const row of rows) if (await deliverNotification(deps, JSON.parse(row.message) as Notification)) sent += 1;
  if (sent > 0) deps.log.info({ sent }, 'pending notifications delivered');
  return sent;
}

/** False when the notification was already decided (an event redelivered after its dedupe row was pruned). */
async function record(tx: Sql, n: Notification, eventId: string, status: 'pending' | 'suppressed'): Promise<boolean> {
  const { changes } = await tx.run(
    `INSERT INTO notifications (id, event_id, order_id, kind, status, message, decided_at, sent_at, attempts)
     VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 0) ON CONFLICT (id) DO NOTHING`,
    [n.id, eventId, n.orderId, n.kind, status, JSON.stringify(n), Date.now()],
  );
  return changes === 1;
}
