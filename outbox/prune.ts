import type { Logger } from 'pino';
import type { RelayMetrics } from './relay-metrics';
import type { OutboxStore } from './store';

/**
 * One prune pass: counts the sent rows past the retention, then deletes them in bounded batches
 * until none is left, so pruning keeps up with any append rate (one batch per interval, as before,
 * capped it at ~17 rows/s). The count is a full scan, once per pass, kept off the scrape path.
 */
export async function prunePass({
  store,
  retentionMs,
  batchSize = 5_000,
  metrics,
  log,
  now = Date.now(),
}: {
  store: OutboxStore;
  retentionMs: number;
  batchSize?: number;
  metrics?: RelayMetrics;
  log?: Logger;
  now?: number;
}): Promise<number> {
  const before = now - retentionMs;
  let pending = await store.prunePending(before);
  metrics?.prunePending.set(pending);
  const pruned = await store.pruneSent(before, batchSize, (deleted) => {
    pending = Math.max(0, pending - deleted);
    metrics?.prunePending.set(pending);
    metrics?.pruned.inc(deleted);
  });
  if (pruned > 0) log?.info({ pruned }, 'pruned sent outbox rows');
  return pruned;
}
