import type { Migration } from '../../platform/migrations';
import { processedEventsByTimeMigration, processedEventsMigration } from '../processed-events';
import { processedEventsRetention, type RetainedTable } from '../retention';

export const notificationsMigrations: Migration[] = [
  processedEventsMigration('notifications'),
  {
    // One row per notification decided, sent or held back by the kill switch; `message` is what a
    // resend delivers, so it holds the recipient's address: this table is personal data.
    id: 'notifications/001-notifications',
    sql: `CREATE TABLE IF NOT EXISTS notifications (
      id TEXT PRIMARY KEY,
      event_id TEXT NOT NULL UNIQUE,
      order_id TEXT NOT NULL,
      kind TEXT NOT NULL,
      status TEXT NOT NULL,
      message TEXT NOT NULL,
      decided_at BIGINT NOT NULL,
      sent_at BIGINT,
      attempts INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS notifications_by_order ON notifications (order_id);
    CREATE INDEX IF NOT EXISTS notifications_by_status ON notifications (status)`,
  },
  {
    // The kill switch as data, so an operator flips it for every replica at once without a deploy.
    id: 'notifications/002-switch',
    sql: `CREATE TABLE IF NOT EXISTS notifications_switch (
      channel TEXT PRIMARY KEY,
      paused INTEGER NOT NULL,
      reason TEXT,
      changed_at BIGINT NOT NULL
    )`,
  },
  {
    // What the built-in sender "sends": the message a mail gateway would get, kept in the database.
    id: 'notifications/003-mailbox',
    sql: `CREATE TABLE IF NOT EXISTS notification_mailbox (
      notification_id TEXT PRIMARY KEY,
      recipient TEXT NOT NULL,
      subject TEXT NOT NULL,
      body TEXT NOT NULL,
      delivered_at BIGINT NOT NULL
    )`,
  },
  processedEventsByTimeMigration('notifications', 'notifications/004-processed-events-by-time'),
  {
    // Pruned by age (consumers/retention.ts): the mailbox, and notifications once sent.
    id: 'notifications/005-retention-indexes',
    sql: `CREATE INDEX IF NOT EXISTS notification_mailbox_by_time ON notification_mailbox (delivered_at);
    CREATE INDEX IF NOT EXISTS notifications_by_status_time ON notifications (status, decided_at)`,
  },
];

/** What the notifications consumer prunes after its retention; suppressed and pending decisions stay. */
export const notificationsRetained: RetainedTable[] = [
  processedEventsRetention('notifications'),
  { table: 'notification_mailbox', time: 'delivered_at', key: 'notification_id' },
  { table: 'notifications', time: 'decided_at', key: 'id', onlyWhere: "status = 'sent'" },
];
