import type { Migration } from '../../platform/migrations';
import { processedEventsByTimeMigration, processedEventsMigration } from '../processed-events';
import { processedEventsRetention, type RetainedTable } from '../retention';

export const orderViewMigrations: Migration[] = [
  processedEventsMigration('order-view'),
  {
    // One row per order: where it stands, what money moved, when things happened.
    id: 'order-view/001-orders',
    sql: `CREATE TABLE IF NOT EXISTS order_view (
      order_id TEXT PRIMARY KEY,
      customer_id TEXT,
      status TEXT NOT NULL,
      status_rank INTEGER NOT NULL,
      outcome_reason TEXT,
      escalated_waiting_for TEXT,
      currency TEXT,
      total_amount BIGINT,
      item_count INTEGER,
      authorized_amount BIGINT NOT NULL DEFAULT 0,
      voided_amount BIGINT NOT NULL DEFAULT 0,
      captured_amount BIGINT NOT NULL DEFAULT 0,
      refunded_amount BIGINT NOT NULL DEFAULT 0,
      carrier TEXT,
      tracking_number TEXT,
      submitted_at TEXT,
      confirmed_at TEXT,
      dispatched_at TEXT,
      finished_at TEXT,
      first_event_at TEXT NOT NULL,
      last_event_at TEXT NOT NULL,
      events_applied INTEGER NOT NULL,
      updated_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS order_view_by_customer ON order_view (customer_id);
    CREATE INDEX IF NOT EXISTS order_view_by_status ON order_view (status)`,
  },
  {
    // Every applied event of an order, in the order this consumer applied it (seq).
    id: 'order-view/002-steps',
    sql: `CREATE TABLE IF NOT EXISTS order_view_steps (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      event_id TEXT NOT NULL UNIQUE,
      order_id TEXT NOT NULL,
      type TEXT NOT NULL,
      written_version INTEGER NOT NULL,
      occurred_at TEXT NOT NULL,
      topic TEXT NOT NULL,
      kafka_partition INTEGER NOT NULL,
      kafka_offset TEXT NOT NULL,
      summary TEXT NOT NULL,
      applied_at BIGINT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS order_view_steps_by_order ON order_view_steps (order_id, seq)`,
  },
  processedEventsByTimeMigration('order-view', 'order-view/003-processed-events-by-time'),
  {
    // Steps are pruned by age (consumers/retention.ts); the order's row stays.
    id: 'order-view/004-steps-by-time',
    sql: `CREATE INDEX IF NOT EXISTS order_view_steps_by_time ON order_view_steps (applied_at)`,
  },
];

/** What the order view prunes after its retention: the dedupe rows and the timeline steps; order rows stay. */
export const orderViewRetained: RetainedTable[] = [
  processedEventsRetention('order-view'),
  { table: 'order_view_steps', time: 'applied_at', key: 'seq' },
];
