import type { Logger } from 'pino';
import { notificationsContract } from '../consumers/notifications/contract';
import { killSwitch } from '../consumers/notifications/kill-switch';
import { notificationsMigrations, notificationsRetained } from '../consumers/notifications/migrations';
import { deliverPending, notifyOnEvents } from '../consumers/notifications/notify';
import { mailboxSender, type NotificationSender } from '../consumers/notifications/sender';
import type { Database } from '../platform/database';
import { kafkaIsolation, readConfig, type Config } from '../platform/config';
import { startConsumerWorker, type ConsumerWorker } from './consumer-worker';
import { shutdownOnSignals } from '../platform/health';
import { createLogger } from '../platform/log';

/**
 * The notifications process: tells the customer their order is confirmed, on OrderConfirmed only.
 * NOTIFICATIONS_KILL_SWITCH=on (or `npm run notifications -- pause`) holds sending back; the events
 * are still consumed and recorded as suppressed, and `npm run notifications -- resend` sends them.
 */
export function startNotificationsWorker({
  config,
  log = createLogger('notifications', config.logLevel),
  db,
  sender,
  isolation,
}: {
  config: Config;
  log?: Logger;
  db?: Database;
  /** Tests isolate their run on a shared broker with their own group and topic names. */
  isolation?: { groupId: string; route: (topic: string) => string };
  /** The built-in mailbox sender (writing to the worker's database) unless given. */
  sender?: NotificationSender;
}): Promise<ConsumerWorker> {
  const { notifications: n } = config;
  const deps = (database: Database) => {
    const s = sender ?? mailboxSender(database, log);
    return {
      db: database,
      sender: s,
      killSwitch: killSwitch(s.channel, { dialect: database.dialect, forcedOn: n.killSwitchForced }),
      log,
    };
  };
  return startConsumerWorker({
    name: 'notifications',
    contract: notificationsContract,
    migrations: notificationsMigrations,
    apply: (database) => notifyOnEvents(deps(database)),
    retained: notificationsRetained,
    retentionDays: config.consumers.retentionDays,
    ...(config.consumers.crashAfterApplies ? { crashAfterApplies: config.consumers.crashAfterApplies } : {}),
    // What a failed or interrupted delivery left pending is sent again, outside any transaction.
    upkeep: (database) => [{ name: 'deliver-pending', everyMs: 10_000, run: () => deliverPending(deps(database)) }],
    databaseUrl: n.databaseUrl,
    brokers: config.kafka.brokers,
    httpPort: n.httpPort,
    log,
    ...(db ? { db } : {}),
    ...(isolation ?? prefixed(config)),
  });
}

/** KAFKA_TOPIC_PREFIX: this environment's own topics and consumer group on a shared cluster. */
function prefixed(config: Config): { groupId: string; route: (topic: string) => string } | undefined {
  const isolation = kafkaIsolation(config);
  return isolation && { groupId: isolation.groupId('notifications'), route: isolation.route };
}

if (require.main === module) {
  const config = readConfig();
  const log = createLogger('notifications', config.logLevel);
  startNotificationsWorker({ config, log }).then(
    (worker) => shutdownOnSignals(log, [() => worker.stop()]),
    (err: unknown) => {
      log.fatal({ err: String(err) }, 'notifications worker failed to start');
      process.exit(1);
    },
  );
}
