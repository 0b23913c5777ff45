import type { Migration } from '../../platform/migrations';
import { tombstoneMigration } from '../tcc';

/**
 * The payments context's tables. An authorization holds an amount; a capture charges it; a void
 * releases it uncharged; a refund pays a capture back. Each row is keyed by the idempotency key
 * of the step that made it. `payment_voids` also records voids that found nothing to void.
 */
export const paymentsMigrations: Migration[] = [
  {
    id: 'payments/001-ledger',
    sql: `CREATE TABLE IF NOT EXISTS payment_authorizations (
      authorization_id TEXT PRIMARY KEY,
      idempotency_key TEXT NOT NULL UNIQUE,
      order_id TEXT NOT NULL,
      amount BIGINT NOT NULL,
      currency TEXT NOT NULL,
      method_token TEXT NOT NULL,
      status TEXT NOT NULL,
      reason TEXT
    );
    CREATE INDEX IF NOT EXISTS payment_authorizations_order ON payment_authorizations (order_id);
    CREATE TABLE IF NOT EXISTS payment_results (
      idempotency_key TEXT PRIMARY KEY,
      authorization_id TEXT NOT NULL,
      status TEXT NOT NULL,
      reason TEXT
    );
    CREATE TABLE IF NOT EXISTS payment_voids (
      idempotency_key TEXT PRIMARY KEY,
      order_id TEXT NOT NULL,
      authorization_id TEXT,
      amount BIGINT
    );
    CREATE TABLE IF NOT EXISTS payment_captures (
      capture_id TEXT PRIMARY KEY,
      idempotency_key TEXT NOT NULL UNIQUE,
      order_id TEXT NOT NULL,
      authorization_id TEXT NOT NULL,
      amount BIGINT NOT NULL,
      currency TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS payment_refunds (
      idempotency_key TEXT PRIMARY KEY,
      order_id TEXT NOT NULL,
      refund_id TEXT,
      capture_id TEXT,
      amount BIGINT,
      currency TEXT
    );`,
  },
  {
    // The keys of steps whose undo found nothing to undo: such a step must never take effect later.
    id: 'payments/002-tombstones',
    sql: tombstoneMigration('payment_tombstones'),
  },
];
