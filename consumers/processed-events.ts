import type { Sql } from '../platform/database';
import type { Migration } from '../platform/migrations';

/**
 * Each consumer remembers the event ids it has applied, in its own table, and records one in the
 * same transaction as the effect: a redelivered or replayed event finds its id and does nothing.
 */
export const processedEventsTable = (consumer: string): string => `${consumer.replace(/[^a-z0-9]+/gi, '_')}_processed_events`;

export function processedEventsMigration(consumer: string): Migration {
  const table = processedEventsTable(consumer);
  return {
    id: `${consumer}/000-processed-events`,
    sql: `CREATE TABLE IF NOT EXISTS ${table} (
      event_id TEXT PRIMARY KEY,
      type TEXT NOT NULL,
      topic TEXT NOT NULL,
      kafka_partition INTEGER NOT NULL,
      kafka_offset TEXT NOT NULL,
      processed_at BIGINT NOT NULL
    )`,
  };
}

/** The index pruning reads by age (consumers/retention.ts). */
export function processedEventsByTimeMigration(consumer: string, id: string): Migration {
  const table = processedEventsTable(consumer);
  return { id, sql: `CREATE INDEX IF NOT EXISTS ${table}_by_time ON ${table} (processed_at)` };
}

export interface Origin {
  topic: string;
  partition: number;
  offset: string;
}

/** True when this transaction is the first to apply the event. */
export async function recordProcessed(
  tx: Sql,
  consumer: string,
  eventId: string,
  type: string,
  origin: Origin,
): Promise<boolean> {
  const { changes } = await tx.run(
    `INSERT INTO ${processedEventsTable(consumer)} (event_id, type, topic, kafka_partition, kafka_offset, processed_at)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
    [eventId, type, origin.topic, origin.partition, origin.offset, Date.now()],
  );
  return changes === 1;
}
