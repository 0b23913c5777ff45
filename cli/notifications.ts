import type { Command } from 'commander';
import { killSwitch, setKillSwitch } from '../consumers/notifications/kill-switch';
import { notificationsMigrations } from '../consumers/notifications/migrations';
import { resendSuppressed } from '../consumers/notifications/resend';
import { mailboxSender } from '../consumers/notifications/sender';
import { migrate } from '../platform/migrations';
import { createLogger } from '../platform/log';
import { act, CliError, EXIT, type Context } from './context';

/**
 * `trapeze notifications pause|resume|resend|status`: the notifications kill switch. Paused,
 * events are still consumed and the notifications are kept, unsent; `resend` sends them once resumed.
 */
export function notificationCommands(program: Command, ctx: Context): void {
  const group = program.command('notifications').description('the kill switch of customer notifications');
  const open = async () => {
    const db = ctx.database(ctx.config.notifications.databaseUrl);
    await migrate(db, notificationsMigrations);
    const log = createLogger('notifications-cli', 'error');
    const sender = mailboxSender(db, log);
    const theSwitch = killSwitch(sender.channel, {
      dialect: db.dialect,
      forcedOn: ctx.config.notifications.killSwitchForced,
    });
    return { db, log, sender, theSwitch };
  };
  const status = async (extra: Record<string, unknown> = {}, first: string[] = []) => {
    const { db, theSwitch } = await open();
    const on = await db.transaction((tx) => theSwitch.isOn(tx));
    const counts = await db.all<{ status: string; n: number }>(
      'SELECT status, COUNT(*) AS n FROM notifications GROUP BY status ORDER BY status',
    );
    ctx.emit({ ...extra, killSwitch: on, counts: Object.fromEntries(counts.map((c) => [c.status, Number(c.n)])) }, () => [
      ...first,
      `kill switch: ${on ? 'ON (sending suppressed)' : 'off'}; ${counts.map((c) => `${c.status}: ${c.n}`).join(', ') || 'no notifications yet'}`,
    ]);
  };

  group
    .command('status')
    .description('the switch and the notifications by status')
    .action(act(ctx, () => status()));
  group
    .command('pause')
    .description('hold every notification back (events are still consumed)')
    .argument('[reason...]')
    .action(
      act(ctx, async (reason: string[]) => {
        const { db, sender } = await open();
        await setKillSwitch(db, sender.channel, true, reason.join(' ') || 'paused by an operator');
        await status();
      }),
    );
  group
    .command('resume')
    .description('send again from the next event on')
    .action(
      act(ctx, async () => {
        const { db, sender } = await open();
        await setKillSwitch(db, sender.channel, false);
        await status();
      }),
    );
  group
    .command('resend')
    .description('send what was held back while paused (exit 2 while the switch is still on)')
    .action(
      act(ctx, async () => {
        const { db, sender, theSwitch, log } = await open();
        const result = await resendSuppressed(db, { sender, killSwitch: theSwitch, log });
        if (result.stillSuppressed) throw new CliError('the kill switch is on: `trapeze notifications resume` first', EXIT.hold);
        await status({ resent: result.sent }, [`resent ${result.sent} notification(s)`]);
      }),
    );
}
