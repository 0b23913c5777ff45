import type { Migration } from '../../platform/migrations';
import { tombstoneMigration } from '../tcc';

/** The orders context's tables: the order and every status transition, by idempotency key. */
export const ordersMigrations: Migration[] = [
  {
    id: 'orders/001-orders',
    sql: `CREATE TABLE IF NOT EXISTS orders (
      order_id TEXT PRIMARY KEY,
      customer_id TEXT NOT NULL,
      status TEXT NOT NULL,
      total_amount BIGINT NOT NULL,
      currency TEXT NOT NULL,
      reason TEXT
    );
    CREATE TABLE IF NOT EXISTS order_transitions (
      idempotency_key TEXT PRIMARY KEY,
      order_id TEXT NOT NULL,
      status TEXT NOT NULL,
      reason TEXT,
      applied INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS order_transitions_order ON order_transitions (order_id);`,
  },
  {
    // The keys of steps whose undo found nothing to undo: such a step must never take effect later.
    id: 'orders/002-tombstones',
    sql: tombstoneMigration('order_tombstones'),
  },
];
