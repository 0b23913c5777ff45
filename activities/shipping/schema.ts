import type { Migration } from '../../platform/migrations';
import { tombstoneMigration } from '../tcc';

/**
 * The shipping context's tables: one shipment per order (allocated, undeliverable, cancelled,
 * dispatched) with the recipient the label needs, and the cancel/dispatch operations by key.
 */
export const shippingMigrations: Migration[] = [
  {
    id: 'shipping/001-shipments',
    sql: `CREATE TABLE IF NOT EXISTS shipments (
      shipment_id TEXT PRIMARY KEY,
      idempotency_key TEXT NOT NULL UNIQUE,
      order_id TEXT NOT NULL,
      status TEXT NOT NULL,
      carrier TEXT,
      country TEXT NOT NULL,
      recipient TEXT NOT NULL,
      tracking_number TEXT,
      reason TEXT
    );
    CREATE INDEX IF NOT EXISTS shipments_order ON shipments (order_id);
    CREATE TABLE IF NOT EXISTS shipment_operations (
      idempotency_key TEXT PRIMARY KEY,
      order_id TEXT NOT NULL,
      kind TEXT NOT NULL,
      shipment_id TEXT,
      applied INTEGER NOT NULL
    );`,
  },
  {
    // The keys of steps whose undo found nothing to undo: such a step must never take effect later.
    id: 'shipping/002-tombstones',
    sql: tombstoneMigration('shipment_tombstones'),
  },
];
