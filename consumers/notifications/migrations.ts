import type { Migration } from '../../platform/migrations';
import { processedEventsMigration } from '../processed-events';

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
];
