import type { Migration } from '../../platform/migrations';

/** The fraud context's table: one screening per order, keyed by the step's idempotency key. */
export const fraudMigrations: Migration[] = [
  {
    id: 'fraud/001-screenings',
    sql: `CREATE TABLE IF NOT EXISTS fraud_screenings (
      idempotency_key TEXT PRIMARY KEY,
      order_id TEXT NOT NULL,
      customer_id TEXT NOT NULL,
      verdict TEXT NOT NULL,
      score INTEGER NOT NULL,
      signals TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS fraud_screenings_order ON fraud_screenings (order_id);`,
  },
];
