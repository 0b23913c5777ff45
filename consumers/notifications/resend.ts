import type { Logger } from 'pino';
import type { Database } from '../../platform/database';
import type { KillSwitch } from './kill-switch';
import type { Notification, NotificationSender } from './sender';

/**
 * Sends what the kill switch held back, oldest first, once the switch is off. Each notification
 * is delivered and marked sent in one transaction, so running this twice sends nothing twice.
 */
export async function resendSuppressed(
  db: Database,
  deps: { sender: NotificationSender; killSwitch: KillSwitch; log: Logger },
  { limit = 1_000 } = {},
): Promise<{ sent: number; stillSuppressed: boolean }> {
  if (await db.transaction((tx) => deps.killSwitch.isOn(tx))) return { sent: 0, stillSuppressed: true };
  const held = await db.all<{ id: string; message: string }>(
    `SELECT id, message FROM notifications WHERE status = 'suppressed' ORDER BY decided_at, id LIMIT ?`,
    [limit],
  );
  let sent = 0;
  for (const row of held) {
    const delivered = await db.transaction(async (tx) => {
      const { changes } = await tx.run(
        `UPDATE notifications SET status = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ? AND status = 'suppressed'`,
        [Date.now(), row.id],
      );
      if (changes === 0) return false; // another resend got there first
      await deps.sender.deliver(tx, JSON.parse(row.message) as Notification);
      return true;
    });
    if (delivered) sent += 1;
  }
  deps.log.info({ sent }, 'suppressed notifications resent');
  return { sent, stillSuppressed: false };
}
