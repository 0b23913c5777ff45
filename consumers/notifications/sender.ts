import type { Logger } from 'pino';
import type { Database } from '../../platform/database';

/**
 * The port through which a notification leaves. `deliver` is called outside any database
 * transaction (a gateway's network call must not hold a transaction open: on PostgreSQL that
 * would hold the outbox relay's guard and the kill switch's lock for as long as the gateway
 * takes). It runs after the decision committed, so a crash between a gateway's acceptance and
 * the `sent` mark delivers the same notification id again: the id is the idempotency key a real
 * gateway must honour.
 */
export interface Notification {
  id: string;
  kind: 'order-confirmed';
  orderId: string;
  customerId: string;
  /** The address: personal data, so it goes to the gateway and the database, never to logs. */
  recipient: string;
  subject: string;
  body: string;
}

export interface NotificationSender {
  readonly channel: string;
  deliver(notification: Notification): Promise<void>;
}

/** The built-in sender: writes the message to `notification_mailbox` and logs it without PII. */
export function mailboxSender(db: Database, log: Logger): NotificationSender {
  return {
    channel: 'email',
    async deliver(n) {
      await db.run(
        `INSERT INTO notification_mailbox (notification_id, recipient, subject, body, delivered_at)
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (notification_id) DO NOTHING`,
        [n.id, n.recipient, n.subject, n.body, Date.now()],
      );
      // Ids and kind only: recipient, subject and body may carry personal data.
      log.info({ notificationId: n.id, orderId: n.orderId, kind: n.kind }, 'notification delivered');
    },
  };
}
