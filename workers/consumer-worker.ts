import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { catalog } from '../events/catalog';
import type { ConsumerContract } from '../events/consumer-contracts';
import { upcasters } from '../events/catalog/upcasters';
import { createEventConsumer, type ApplyEvent, type EventConsumer } from '../consumers/event-consumer';
import { openDatabase, type Database } from '../platform/database';
import { migrate, type Migration } from '../platform/migrations';
import { serveHealth, type HealthServer } from '../platform/health';
import { kafkaLogs } from '../platform/kafka-logging';

/**
 * What every consumer process shares: its database and migrations, a Kafka consumer group, and
 * /healthz (the group member runs), /readyz (joined and not stuck on an effect), /metrics.
 */
export interface ConsumerWorker {
  db: Database;
  consumer: EventConsumer;
  health: HealthServer;
  stop(): Promise<void>;
}

export async function startConsumerWorker(options: {
  name: string;
  contract: ConsumerContract;
  migrations: Migration[];
  apply: (db: Database) => ApplyEvent;
  databaseUrl: string;
  brokers: string[];
  httpPort: number;
  log: Logger;
  /** In-process use (npm start): share the process's one Database, SQLite above all. */
  db?: Database;
  groupId?: string;
  route?: (topic: string) => string;
}): Promise<ConsumerWorker> {
  const { name, log } = options;
  const db = options.db ?? openDatabase(options.databaseUrl);
  await migrate(db, options.migrations);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const kafka = new Kafka({
    clientId: `trapeze-${name}`,
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogs(log),
  });
  const consumer = createEventConsumer({
    name,
    kafka,
    db,
    catalog,
    upcasters,
    contract: options.contract,
    apply: options.apply(db),
    log,
    registry,
    ...(options.groupId ? { groupId: options.groupId } : {}),
    ...(options.route ? { route: options.route } : {}),
  });
  // Health first: a consumer waiting for its topics (relay not up yet) is alive, just not ready.
  let starting = true;
  const health = await serveHealth({
    port: options.httpPort,
    registry,
    live: () => starting || consumer.status().running,
    ready: () => consumer.status().ready,
  });
  try {
    await consumer.start();
  } catch (err) {
    await health.close();
    throw err;
  } finally {
    starting = false;
  }
  const lag = await watchLag(kafka, registry, name, options.groupId ?? `trapeze.${name}`, consumer.topics);
  log.info({ port: health.port }, `${name} worker up`);
  return {
    db,
    consumer,
    health,
    async stop() {
      await consumer.stop();
      await lag.disconnect();
      await health.close();
      if (!options.db) await db.close();
    },
  };
}

/**
 * Consumer lag per topic (messages published but not yet committed by the group), read from
 * Kafka at scrape time: the number that says whether customer care sees the present.
 */
async function watchLag(
  kafka: Kafka,
  registry: Registry,
  consumer: string,
  groupId: string,
  topics: readonly string[],
): Promise<Admin> {
  const admin = kafka.admin();
  await admin.connect();
  new Gauge({
    name: 'trapeze_consumer_lag_messages',
    help: 'Messages in the topic not yet committed by the consumer group',
    labelNames: ['consumer', 'topic'],
    registers: [registry],
    async collect() {
      const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
      for (const topic of topics) {
        const high = await admin.fetchTopicOffsets(topic);
        const done = committed.find((c) => c.topic === topic)?.partitions ?? [];
        const lag = high.reduce((sum, p) => {
          const offset = Number(done.find((d) => d.partition === p.partition)?.offset ?? -1);
          return sum + Number(p.high) - (offset < 0 ? Number(p.low) : offset);
        }, 0);
        this.set({ consumer, topic }, lag);
      }
    },
  });
  return admin;
}
