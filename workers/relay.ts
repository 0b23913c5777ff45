import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { openDatabase, type Database } from '../platform/database';
import { migrate, outboxMigrations } from '../platform/migrations';
import { createRelay, type Relay } from '../outbox/relay';
import { createRelayMetrics } from '../outbox/relay-metrics';
import { prunePass } from '../outbox/prune';
import { openOutboxStore } from '../outbox/store';
import { kafkaIsolation, readConfig, type Config } from '../platform/config';
import { serveHealth, shutdownOnSignals, type HealthServer } from '../platform/health';
import { kafkaLogs } from '../platform/kafka-logging';
import { createLogger } from '../platform/log';

/**
 * The outbox relay process: migrates the outbox, relays it to Kafka, prunes old sent rows, and
 * serves /healthz (the loop comes round), /readyz (Kafka answers) and /metrics.
 * Run several against one PostgreSQL for availability; against SQLite run one per database file.
 */
export interface RelayWorker {
  relay: Relay;
  health: HealthServer;
  stop(): Promise<void>;
}

export async function startRelayWorker({
  config,
  log = createLogger('relay', config.logLevel),
  db: shared,
  route,
}: {
  config: Config;
  log?: Logger;
  /** In-process use (npm start): share the process's one Database, SQLite above all. */
  db?: Database;
  /** Tests only: publish to other topics than the bounded contexts' own. */
  route?: (topic: string) => string;
}): Promise<RelayWorker> {
  // Its own connection need not wait for the disk: every write of a relay is redone if lost.
  const db = shared ?? openDatabase(config.databaseUrl, { commitsWaitForDisk: false });
  await migrate(db, outboxMigrations);
  const store = openOutboxStore(db);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const kafka = new Kafka({
    clientId: 'trapeze-relay',
    brokers: config.kafka.brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogs(log),
  });
  const { relay: r } = config;
  const metrics = createRelayMetrics(registry, store);
  let sends = 0;
  const crashAfter = r.crashAfterSends;
  const relay = createRelay({
    store,
    kafka,
    log,
    metrics,
    batchSize: r.batchSize,
    maxBatchBytes: r.maxBatchBytes,
    pollMs: r.pollMs,
    leaseMs: r.leaseMs,
    sendTimeoutMs: r.sendTimeoutMs,
    maxAttempts: r.maxAttempts,
    backoff: { maxMs: r.backoffMaxMs },
    partitions: r.partitions,
    route: route ?? kafkaIsolation(config)?.route,
    ...(crashAfter
      ? {
          // Fault injection (RELAY_CRASH_AFTER_SENDS): die like a SIGKILL between the send and the mark.
          afterSend: () => {
            sends += 1;
            if (sends >= crashAfter) process.kill(process.pid, 'SIGKILL');
          },
        }
      : {}),
  });
  const loop = relay.start();
  // A live loop comes round at least every backoff cap or send timeout; a minute means it is stuck.
  const health = await serveHealth({
    port: r.httpPort,
    registry,
    live: () => Date.now() - relay.status().lastLoopAt < 60_000,
    ready: () => relay.status().running && relay.status().kafkaHealthy,
  });
  // Every minute a pass deletes everything past the retention, in bounded batches; passes never overlap.
  let pruning: Promise<unknown> = Promise.resolve();
  const prune = setInterval(() => {
    pruning = pruning.then(() =>
      prunePass({ store, retentionMs: r.retentionHours * 3_600_000, metrics, log }).catch((err: unknown) =>
        log.warn({ err: String(err) }, 'prune failed'),
      ),
    );
  }, 60_000);
  prune.unref();
  log.info({ port: health.port, brokers: config.kafka.brokers }, 'relay worker up');
  return {
    relay,
    health,
    async stop() {
      clearInterval(prune);
      await pruning;
      await relay.stop();
      await loop;
      await health.close();
      if (!shared) await db.close();
    },
  };
}

if (require.main === module) {
  const config = readConfig();
  const log = createLogger('relay', config.logLevel);
  startRelayWorker({ config, log }).then(
    (worker) => shutdownOnSignals(log, [() => worker.stop()]),
    (err: unknown) => {
      log.fatal({ err: String(err) }, 'relay worker failed to start');
      process.exit(1);
    },
  );
}
