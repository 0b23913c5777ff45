import type { Logger } from 'pino';
import type { Sql } from '../../platform/database';

/**
 * The port through which a notification leaves. The notification id is the idempotency key a
 * real gateway must honour: delivery runs inside the consumer's transaction, so a crash between
 * a gateway's acceptance and the commit delivers the same notification id again.
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
  deliver(tx: Sql, notification: Notification): Promise<void>;
}

/** The built-in sender: writes the message to `notification_mailbox` and logs it without PII. */
export function mailboxSender(log: Logger): NotificationSender {
  return {
    channel: 'email',
    async deliver(tx, n) {
      await tx.run(
        `INSERT INTO notification_mailbox (notification_id, recipient, subject, body, delivered_at)
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (notification_id) DO NOTHING`,
        [n.id, n.recipient, n.subject, n.body, Date.now()],
      );
      // Ids and kind only: recipient, subject and body may carry personal data.
      log.info({ notificationId: n.id, orderId: n.orderId, kind: n.kind }, 'notification delivered');
    },
  };
}
