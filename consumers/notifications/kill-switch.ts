import type { Database, Sql } from '../../platform/database';

/**
 * The notifications kill switch: while on, confirmed orders are still consumed and recorded, but
 * as `suppressed` instead of sent, so nothing is lost and `resendSuppressed` sends them later.
 * It is on when the process was started with it forced on (configuration) or when an operator
 * turned it on in the database (every replica sees it on its next event).
 */
export interface KillSwitch {
  isOn(tx: Sql): Promise<boolean>;
}

export function killSwitch(
  channel: string,
  { dialect, forcedOn = false }: { dialect: Database['dialect']; forcedOn?: boolean },
): KillSwitch {
  // The read is a shared lock on PostgreSQL: an operator's resume (an update of this row) waits
  // until every consumer transaction that saw the switch on has committed its `suppressed` row,
  // so the resend that follows the resume sees every one of them. SQLite serialises writers.
  const lock = dialect === 'postgres' ? ' FOR SHARE' : '';
  return {
    async isOn(tx) {
      if (forcedOn) return true;
      const row = await tx.get<{ paused: number }>(`SELECT paused FROM notifications_switch WHERE channel = ?${lock}`, [channel]);
      return Boolean(row?.paused);
    },
  };
}

export async function setKillSwitch(db: Database, channel: string, on: boolean, reason?: string): Promise<void> {
  await db.run(
    `INSERT INTO notifications_switch (channel, paused, reason, changed_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (channel) DO UPDATE SET paused = excluded.paused, reason = excluded.reason, changed_at = excluded.changed_at`,
    [channel, on ? 1 : 0, reason ?? null, Date.now()],
  );
}
