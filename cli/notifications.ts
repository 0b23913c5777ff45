import { killSwitch, setKillSwitch } from '../consumers/notifications/kill-switch';
import { notificationsMigrations } from '../consumers/notifications/migrations';
import { resendSuppressed } from '../consumers/notifications/resend';
import { mailboxSender } from '../consumers/notifications/sender';
import { openDatabase } from '../platform/database';
import { migrate } from '../platform/migrations';
import { readConfig } from '../platform/config';
import { createLogger } from '../platform/log';

/**
 * Operator commands for the notifications kill switch:
 *   npm run notifications -- pause "<reason>"   hold every notification back (events still consumed)
 *   npm run notifications -- resume             send again from the next event on
 *   npm run notifications -- resend             send what was held back while paused
 *   npm run notifications -- status             the switch and counts by status
 */
async function main([command, ...args]: string[]): Promise<number> {
  const config = readConfig();
  const log = createLogger('notifications-cli', config.logLevel);
  const db = openDatabase(config.notifications.databaseUrl);
  try {
    await migrate(db, notificationsMigrations);
    const sender = mailboxSender(db, log);
    const theSwitch = killSwitch(sender.channel, { dialect: db.dialect, forcedOn: config.notifications.killSwitchForced });
    if (command === 'pause') await setKillSwitch(db, sender.channel, true, args.join(' ') || 'paused by an operator');
    else if (command === 'resume') await setKillSwitch(db, sender.channel, false);
    else if (command === 'resend') {
      const result = await resendSuppressed(db, {
        sender,
        killSwitch: theSwitch,
        log,
      });
      if (result.stillSuppressed) {
        console.error('the kill switch is on: resume first');
        return 1;
      }
      console.log(`resent ${result.sent} notification(s)`);
    } else if (command !== 'status') {
      console.error('usage: npm run notifications -- pause [reason] | resume | resend | status');
      return 2;
    }
    const on = await db.transaction((tx) => theSwitch.isOn(tx));
    const counts = await db.all<{ status: string; n: number }>(
      'SELECT status, COUNT(*) AS n FROM notifications GROUP BY status ORDER BY status',
    );
    console.log(
      `kill switch: ${on ? 'ON (sending suppressed)' : 'off'}; ${counts.map((c) => `${c.status}: ${c.n}`).join(', ') || 'no notifications yet'}`,
    );
    return 0;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
