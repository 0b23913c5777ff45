import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { OutboxStore } from './store';

/**
 * The relay's Prometheus metrics. Backlog, oldest unsent age and paused topics are read from the
 * database at scrape time, so they are true for the whole outbox, not just this relay's share.
 */
export interface RelayMetrics {
  published: Counter<'topic'>;
  failures: Counter<'stage'>;
  publicationLag: Histogram;
  batchSize: Histogram;
}

export function createRelayMetrics(registry: Registry, store: OutboxStore): RelayMetrics {
  const registers = [registry];
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
