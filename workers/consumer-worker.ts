import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { catalog } from '../events/catalog';
import type { ConsumerContract } from '../events/consumer-contracts';
import { upcasters } from '../events/catalog/upcasters';
import { createEventConsumer, type ApplyEvent, type EventConsumer } from '../consumers/event-consumer';
import { assertRetentionCovers, createPruner, redeliveryWindowMs, type RetainedTable } from '../consumers/retention';
import { openDatabase, type Database } from '../platform/database';
import { migrate, type Migration } from '../platform/migrations';
import { serveHealth, type HealthServer } from '../platform/health';
import { kafkaLogs } from '../platform/kafka-logging';
import { setupTracing } from '../platform/tracing';

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

export interface UpkeepTask {
  name: string;
  everyMs: number;
  run: () => Promise<unknown>;
}

export async function startConsumerWorker(options: {
  name: string;
  contract: ConsumerContract;
  migrations: Migration[];
  apply: (db: Database) => ApplyEvent;
  /** The tables this consumer prunes after `retentionDays` (its processed events at least). */
  retained: readonly RetainedTable[];
  retentionDays: number;
  /** Work the process repeats beside consuming (each run awaited before the next is scheduled). */
  upkeep?: (db: Database) => UpkeepTask[];
  databaseUrl: string;
  brokers: string[];
  httpPort: number;
  log: Logger;
  /** In-process use (npm start): share the process's one Database, SQLite above all. */
  db?: Database;
  groupId?: string;
  route?: (topic: string) => string;
  /** Fault injection (CONSUMER_CRASH_AFTER_APPLIES): SIGKILL itself after this many applied chunks, before their offsets. */
  crashAfterApplies?: number;
}): Promise<ConsumerWorker> {
  const { name, log } = options;
  const tracing = setupTracing({ serviceName: `trapeze-${name}` });
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
    ...(options.crashAfterApplies ? { afterApply: crashAfter(options.crashAfterApplies) } : {}),
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
  const retentionMs = options.retentionDays * 24 * 3_600_000;
  const windowMs = await redeliveryWindowMs(lag, consumer.topics).catch((err: unknown) => {
    log.warn({ err: (err as Error).message }, 'could not read the topics retention; CONSUMER_RETENTION_DAYS is not checked');
    return 0;
  });
  try {
    assertRetentionCovers(name, retentionMs, windowMs);
  } catch (err) {
    await consumer.stop();
    await lag.disconnect();
    await health.close();
    throw err;
  }
  const pruner = createPruner({ db, consumer: name, tables: options.retained, retentionMs, registry });
  const upkeep = repeat(log, [
    { name: 'prune', everyMs: 10 * 60_000, run: () => pruner.prune() },
    ...(options.upkeep?.(db) ?? []),
  ]);
  log.info({ port: health.port }, `${name} worker up`);
  return {
    db,
    consumer,
    health,
    async stop() {
      await upkeep.stop();
      await consumer.stop();
      await tracing.forceFlush();
      await lag.disconnect();
      await health.close();
      if (!options.db) await db.close();
    },
  };
}

/** Dies like a SIGKILL on the n-th call: between an applied chunk's commit and its offsets. */
function crashAfter(n: number): () => void {
  let applied = 0;
  return () => {
    applied += 1;
    if (applied >= n) process.kill(process.pid, 'SIGKILL');
  };
}

/** Runs each task now and then every `everyMs` after it finished; a failure is logged and retried next time. */
function repeat(log: Logger, tasks: UpkeepTask[]): { stop(): Promise<void> } {
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  const schedule = (task: UpkeepTask, delayMs: number) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      const run = task
        .run()
        .then(
          () => undefined,
          (err: unknown) => log.warn({ task: task.name, err: (err as Error).message }, 'upkeep task failed; retried later'),
        )
        .finally(() => {
          running.delete(run);
          if (!stopped) schedule(task, task.everyMs);
        });
      running.add(run);
    }, delayMs);
    timer.unref();
    timers.add(timer);
  };
  for (const task of tasks) schedule(task, 0);
  return {
    async stop() {
      stopped = true;
      timers.forEach(clearTimeout);
      await Promise.all(running);
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
