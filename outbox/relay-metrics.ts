import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { OutboxStore } from './store';

/**
 * The relay's Prometheus metrics. Backlog, oldest unsent age and paused topics are read from the
 * database at scrape time, so they are true for the whole outbox, not just this relay's share.
 */
export interface RelayMetrics {
  published: Counter<'topic'>;
  failures: Counter<'stage'>;
  parked: Counter;
  pruned: Counter;
  prunePending: Gauge;
  publicationLag: Histogram;
  batchSize: Histogram;
}

export function createRelayMetrics(registry: Registry, store: OutboxStore): RelayMetrics {
  const registers = [registry];
  new Gauge({
    name: 'trapeze_outbox_dead_letters',
    help: 'Outbox rows parked because they can never be published (npx trapeze outbox dead-letters)',
    registers,
    async collect() {
      this.set((await store.deadLetterCounts()).parked);
    },
  });
  new Gauge({
    name: 'trapeze_outbox_blocked_by_dead_letters',
    help: 'Unsent rows waiting behind a parked row of their key (they go once it is re-driven)',
    registers,
    async collect() {
      this.set((await store.deadLetterCounts()).waiting);
    },
  });
  new Gauge({
    name: 'trapeze_outbox_oldest_blocking_transaction_seconds',
    help:
      'PostgreSQL: age of the oldest transaction holding a transaction id anywhere in the cluster (or prepared); ' +
      'no row written after it began is published before it ends. 0 on SQLite and when none is open',
    registers,
    async collect() {
      this.set(((await store.oldestBlockingTransaction())?.ageMs ?? 0) / 1000);
    },
  });
  new Gauge({
    name: 'trapeze_outbox_backlog',
    help: 'Outbox rows not yet published',
    registers,
    async collect() {
      this.set(await store.backlog());
    },
  });
  new Gauge({
    name: 'trapeze_outbox_oldest_unsent_age_seconds',
    help: 'Age of the oldest unpublished outbox row (publication lag); 0 when the outbox is drained',
    registers,
    async collect() {
      this.set((await store.oldestUnsentAgeMs()) / 1000);
    },
  });
  new Gauge({
    name: 'trapeze_outbox_paused_topics',
    help: 'Topics whose kill switch is on (1 per paused topic)',
    labelNames: ['topic'],
    registers,
    async collect() {
      this.reset();
      for (const p of await store.paused()) this.set({ topic: p.topic }, 1);
    },
  });
  return {
    published: new Counter({
      name: 'trapeze_outbox_published_total',
      help: 'Events published to Kafka and marked sent',
      labelNames: ['topic'],
      registers,
    }),
    failures: new Counter({
      name: 'trapeze_outbox_failures_total',
      help: 'Relay failures by stage: claim (database), publish (Kafka), mark (database after publish)',
      labelNames: ['stage'],
      registers,
    }),
    parked: new Counter({
      name: 'trapeze_outbox_parked_total',
      help: 'Outbox rows parked as dead letters by this relay',
      registers,
    }),
    pruned: new Counter({
      name: 'trapeze_outbox_pruned_total',
      help: 'Sent outbox rows deleted after the retention',
      registers,
    }),
    prunePending: new Gauge({
      name: 'trapeze_outbox_prune_pending',
      help: 'Sent rows past the retention not yet deleted: counted when a prune pass starts, counted down as it goes',
      registers,
    }),
    publicationLag: new Histogram({
      name: 'trapeze_outbox_publication_lag_seconds',
      help: 'Time from append to acknowledged publication, per event',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    batchSize: new Histogram({
      name: 'trapeze_outbox_batch_size',
      help: 'Events per published batch',
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers,
    }),
  };
}
