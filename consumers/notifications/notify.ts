import type { Logger } from 'pino';
import { formatMoney } from '../../domain/money';
import type { Sql } from '../../platform/database';
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

export function notifyOnEvents(deps: { sender: NotificationSender; killSwitch: KillSwitch; log: Logger }): ApplyEvent {
  return async (tx, event) => {
    if (event.type !== 'OrderConfirmed') return;
    const n = orderConfirmedNotification(event.envelope.id, event.data as OrderConfirmedData);
    const suppressed = await deps.killSwitch.isOn(tx);
    await record(tx, n, event.envelope.id, suppressed ? 'suppressed' : 'sent');
    if (suppressed) {
      deps.log.info(
        { notificationId: n.id, orderId: n.orderId },
        'notification suppressed by the kill switch; kept for resending',
      );
      return;
    }
    await deps.sender.deliver(tx, n);
  };
}

async function record(tx: Sql, n: Notification, eventId: string, status: 'sent' | 'suppressed'): Promise<void> {
  const now = Date.now();
  await tx.run(
    `INSERT INTO notifications (id, event_id, order_id, kind, status, message, decided_at, sent_at, attempts)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [n.id, eventId, n.orderId, n.kind, status, JSON.stringify(n), now, status === 'sent' ? now : null, status === 'sent' ? 1 : 0],
  );
}
