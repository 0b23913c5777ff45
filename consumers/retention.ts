import { ConfigResourceTypes, type Admin } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Database } from '../platform/database';
import { deadLetterTopic } from './dead-letter';
import { processedEventsTable } from './processed-events';

/**
 * What a consumer keeps only for a while. The dedupe rows must outlive every way an event can
 * come back: the topic's retention (a group whose offsets expired re-reads the whole topic), the
 * dead-letter topic's retention (a letter redriven at the end of it) and the longest consumer
 * lag; README "Retention" gives the numbers. Rows go in bounded batches, each its own short
 * statement, so pruning never holds a long transaction nor starves the consumer of the database.
 */
export interface RetainedTable {
  table: string;
  /** The epoch-milliseconds column the age is read from. */
  time: string;
  /** The primary key, to delete a batch by. */
  key: string;
  /** Rows that must stay whatever their age (a suppressed notification waits for its resend). */
  onlyWhere?: string;
}

export const processedEventsRetention = (consumer: string): RetainedTable => ({
  table: processedEventsTable(consumer),
  time: 'processed_at',
  key: 'event_id',
});

const pendingCollectors = new WeakMap<Registry, Array<(gauge: Gauge) => Promise<void>>>();

export interface Pruner {
  /** Deletes every row past retention, batch by batch, until caught up; rows deleted per table. */
  prune(now?: number): Promise<Record<string, number>>;
}

export function createPruner(options: {
  db: Database;
  consumer: string;
  tables: readonly RetainedTable[];
  retentionMs: number;
  batchSize?: number;
  registry?: Registry;
}): Pruner {
  const { db, consumer, tables, retentionMs, batchSize = 1_000, registry } = options;
  const registers = registry ? [registry] : [];
  const filter = (t: RetainedTable) => (t.onlyWhere ? ` AND (${t.onlyWhere})` : '');
  const pruned =
    (registry?.getSingleMetric('trapeze_consumer_pruned_rows_total') as Counter | undefined) ??
    new Counter({
      name: 'trapeze_consumer_pruned_rows_total',
      help: 'Rows of a consumer table deleted after their retention',
      labelNames: ['consumer', 'table'],
      registers,
    });
  if (registry) {
    // Several consumers may share one registry: one gauge, each pruner reporting its own tables.
    const collectors = pendingCollectors.get(registry) ?? [];
    if (collectors.length === 0) {
      pendingCollectors.set(registry, collectors);
      new Gauge({
        name: 'trapeze_consumer_prune_pending_rows',
        help: 'Rows of a consumer table past their retention and not yet pruned (growing: pruning does not keep up)',
        labelNames: ['consumer', 'table'],
        registers,
        async collect() {
          for (const report of collectors) await report(this);
        },
      });
    }
    collectors.push(async (gauge) => {
      const cutoff = Date.now() - retentionMs;
      for (const t of tables) {
        const row = await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t.table} WHERE ${t.time} < ?${filter(t)}`, [cutoff]);
        gauge.set({ consumer, table: t.table }, Number(row?.n ?? 0));
      }
    });
  }
  return {
    async prune(now = Date.now()) {
      const cutoff = now - retentionMs;
      const deleted: Record<string, number> = {};
      for (const t of tables) {
        let total = 0;
        for (;;) {
          const { changes } = await db.run(
            `DELETE FROM ${t.table} WHERE ${t.key} IN (
               SELECT ${t.key} FROM ${t.table} WHERE ${t.time} < ?${filter(t)} ORDER BY ${t.time} LIMIT ?)`,
            [cutoff, batchSize],
          );
          total += changes;
          pruned.inc({ consumer, table: t.table }, changes);
          if (changes < batchSize) break;
          // Let the consumer's own transactions in between batches (SQLite has one connection).
          await new Promise((resolve) => setImmediate(resolve));
        }
        deleted[t.table] = total;
      }
      return deleted;
    },
  };
}

const DAY_MS = 24 * 3_600_000;

/**
 * How long after its first reading an event can reach a consumer again, from the broker's own
 * settings: a topic's retention (a group whose offsets expired re-reads all of it) plus its
 * dead-letter topic's (a letter redriven at the end of it). Infinite when a topic keeps messages
 * for ever.
 */
export async function redeliveryWindowMs(admin: Admin, topics: readonly string[]): Promise<number> {
  const names = [...topics, ...topics.map(deadLetterTopic)];
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms'] })),
  });
  const retention = (name: string) => {
    const value = resources.find((r) => r.resourceName === name)?.configEntries.find((e) => e.configName === 'retention.ms');
    const ms = Number(value?.configValue ?? -1);
    return ms < 0 ? Infinity : ms;
  };
  return Math.max(0, ...topics.map((t) => retention(t) + retention(deadLetterTopic(t))));
}

/** A retention that Kafka can outlast would let a redelivered event through as new: refuse it. */
export function assertRetentionCovers(consumer: string, retentionMs: number, windowMs: number): void {
  if (retentionMs > windowMs) return;
  const days = (ms: number) => (Number.isFinite(ms) ? `${Math.round((ms / DAY_MS) * 10) / 10} days` : 'for ever');
  throw new Error(
    `${consumer}: CONSUMER_RETENTION_DAYS (${days(retentionMs)}) must outlive what Kafka can redeliver: ` +
      `its topics plus their dead-letter topics keep messages ${days(windowMs)}`,
  );
}
