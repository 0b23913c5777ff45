import type { Logger } from 'pino';
import type { Database } from '../../platform/database';
import type { KillSwitch } from './kill-switch';
import { deliverNotification } from './notify';
import type { Notification, NotificationSender } from './sender';

/**
 * Sends what the kill switch held back, oldest first, once the switch is off. Each notification
 * is first claimed (`suppressed` → `pending`, one short transaction, so two resends never claim
 * the same one), then delivered outside any transaction and marked sent.
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
    const { changes } = await db.run(`UPDATE notifications SET status = 'pending' WHERE id = ? AND status = 'suppressed'`, [
      row.id,
    ]);
    if (changes === 0) continue; // another resend got there first
    if (await deliverNotification({ db, sender: deps.sender }, JSON.parse(row.message) as Notification)) sent += 1;
  }
  deps.log.info({ sent }, 'suppressed notifications resent');
  return { sent, stillSuppressed: false };
}
