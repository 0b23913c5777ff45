import type { Logger } from 'pino';
import { orderViewContract } from '../consumers/order-view/contract';
import { orderViewMigrations, orderViewRetained } from '../consumers/order-view/migrations';
import { projectOrderView } from '../consumers/order-view/projection';
import type { Database } from '../platform/database';
import { kafkaIsolation, readConfig, type Config } from '../platform/config';
import { startConsumerWorker, type ConsumerWorker } from './consumer-worker';
import { shutdownOnSignals } from '../platform/health';
import { createLogger } from '../platform/log';

/** The order view process: keeps the customer-care projection of every order up to date. */
export function startOrderViewWorker({
  config,
  log = createLogger('order-view', config.logLevel),
  db,
  isolation,
}: {
  config: Config;
  log?: Logger;
  db?: Database;
  /** Tests isolate their run on a shared broker with their own group and topic names. */
  isolation?: { groupId: string; route: (topic: string) => string };
}): Promise<ConsumerWorker> {
  return startConsumerWorker({
    name: 'order-view',
    contract: orderViewContract,
    migrations: orderViewMigrations,
    apply: (database) => projectOrderView(database.dialect),
    retained: orderViewRetained,
    retentionDays: config.consumers.retentionDays,
    ...(config.consumers.crashAfterApplies ? { crashAfterApplies: config.consumers.crashAfterApplies } : {}),
    databaseUrl: config.orderView.databaseUrl,
    brokers: config.kafka.brokers,
    httpPort: config.orderView.httpPort,
    log,
    ...(db ? { db } : {}),
    ...(isolation ?? prefixed(config)),
  });
}

/** KAFKA_TOPIC_PREFIX: this environment's own topics and consumer group on a shared cluster. */
function prefixed(config: Config): { groupId: string; route: (topic: string) => string } | undefined {
  const isolation = kafkaIsolation(config);
  return isolation && { groupId: isolation.groupId('order-view'), route: isolation.route };
}

if (require.main === module) {
  const config = readConfig();
  const log = createLogger('order-view', config.logLevel);
  startOrderViewWorker({ config, log }).then(
    (worker) => shutdownOnSignals(log, [() => worker.stop()]),
    (err: unknown) => {
      log.fatal({ err: String(err) }, 'order view worker failed to start');
      process.exit(1);
    },
  );
}
