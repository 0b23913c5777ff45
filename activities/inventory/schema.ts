import type { Migration } from '../../platform/migrations';
import { tombstoneMigration } from '../tcc';

/**
 * The inventory context's tables: stock levels per SKU (available = on_hand - reserved, never
 * negative), reservations per order with their lines, and releases (including those that found
 * nothing to release).
 */
export const inventoryMigrations: Migration[] = [
  {
    id: 'inventory/001-stock',
    sql: `CREATE TABLE IF NOT EXISTS stock_levels (
      sku TEXT PRIMARY KEY,
      on_hand INTEGER NOT NULL,
      reserved INTEGER NOT NULL DEFAULT 0,
      CHECK (reserved >= 0 AND reserved <= on_hand)
    );
    CREATE TABLE IF NOT EXISTS stock_reservations (
      reservation_id TEXT PRIMARY KEY,
      idempotency_key TEXT NOT NULL UNIQUE,
      order_id TEXT NOT NULL,
      status TEXT NOT NULL,
      lines TEXT NOT NULL,
      shortages TEXT
    );
    CREATE INDEX IF NOT EXISTS stock_reservations_order ON stock_reservations (order_id);
    CREATE TABLE IF NOT EXISTS stock_releases (
      idempotency_key TEXT PRIMARY KEY,
      order_id TEXT NOT NULL,
      reservation_id TEXT
    );`,
  },
  {
    // The keys of steps whose undo found nothing to undo: such a step must never take effect later.
    id: 'inventory/002-tombstones',
    sql: tombstoneMigration('stock_tombstones'),
  },
];
