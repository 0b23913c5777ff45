import { z } from 'zod';
import { TokenList } from './auth';
import { PayloadEnvironment, payloadSettings } from './codec/settings';
import { SagaVersioningBehavior } from './deployment';

/**
 * Every process reads its configuration here, from the environment, validated once at start:
 * a typo in a variable fails the process loudly instead of running with a silent default.
 * Tests do not read it; they wire factories explicitly.
 */
const port = z.coerce.number().int().min(0).max(65_535);
const positive = z.coerce.number().int().positive();
const unsetWhenEmpty = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const Environment = z.object({
  DATABASE_URL: z.string().min(1).default('sqlite:.data/trapeze.db'),
  TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:9092'),
  /**
   * Prepended (with a dot) to every topic the relay and the consumers use and to the consumers'
   * group ids: several environments on one cluster, each fault-suite case on the shared broker.
   */
  KAFKA_TOPIC_PREFIX: z.preprocess(
    unsetWhenEmpty,
    z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/)
      .optional(),
  ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RELAY_HTTP_PORT: port.default(9464),
  RELAY_BATCH_SIZE: positive.default(500),
  RELAY_MAX_BATCH_BYTES: positive.default(4 * 1024 * 1024),
  RELAY_POLL_MS: positive.default(50),
  RELAY_LEASE_MS: positive.default(60_000),
  /** Claim to acknowledgement, topic creation and connecting included; RELAY_LEASE_MS must exceed it by 5 s. */
  RELAY_SEND_TIMEOUT_MS: positive.default(30_000),
  /** Final refusals by the broker (not outages) before a row is parked as a dead letter. */
  RELAY_MAX_ATTEMPTS: positive.default(10),
  RELAY_BACKOFF_MAX_MS: positive.default(10_000),
  RELAY_TOPIC_PARTITIONS: positive.default(6),
  RELAY_RETENTION_HOURS: positive.default(168),
  /**
   * Fault injection, for the fault suite only: the relay process kills itself (SIGKILL) right after
   * its n-th send is acknowledged and before it marks those rows sent. Unset in production.
   */
  RELAY_CRASH_AFTER_SENDS: z.preprocess(unsetWhenEmpty, positive.optional()),
  // Consumers keep their own state; by default in the main database, in their own tables.
  /** How long consumers keep dedupe rows, timeline steps and sent mail: longer than Kafka can redeliver (README "Retention"). */
  CONSUMER_RETENTION_DAYS: positive.default(30),
  /**
   * Fault injection, for the fault suite only: a consumer process kills itself (SIGKILL) right
   * after its n-th applied chunk committed, before it resolves those offsets. Unset in production.
   */
  CONSUMER_CRASH_AFTER_APPLIES: z.preprocess(unsetWhenEmpty, positive.optional()),
  NOTIFICATIONS_DATABASE_URL: z.string().min(1).optional(),
  NOTIFICATIONS_HTTP_PORT: port.default(9465),
  /** `on` holds every notification back (recorded as suppressed, resendable) whatever the database switch says. */
  NOTIFICATIONS_KILL_SWITCH: z.enum(['on', 'off']).default('off'),
  ORDER_VIEW_DATABASE_URL: z.string().min(1).optional(),
  ORDER_VIEW_HTTP_PORT: port.default(9466),
  SAGA_HTTP_PORT: port.default(9463),
  /** The HTTP API (api/http.ts) with its /healthz, /readyz and /metrics on the same port. */
  API_HTTP_PORT: port.default(8080),
  /** Bearer tokens of the API and the codec server as `role:sha256hex,…` (platform/auth.ts); none: every call is refused. */
  API_TOKENS: z.preprocess(unsetWhenEmpty, TokenList.optional()),
  /** A JSON file of tokens (platform/auth.ts), re-read when it changes: tokens rotate without a restart. */
  API_TOKENS_FILE: z.preprocess(unsetWhenEmpty, z.string().min(1).optional()),
  /** The payment provider's webhook secret(s), comma-separated (the first signs, any verifies); none: webhooks are refused. */
  PAYMENT_WEBHOOK_SECRET: z.preprocess(
    unsetWhenEmpty,
    z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().min(16, 'a webhook secret has at least 16 characters')).min(1))
      .optional(),
  ),
  /** How old a signed webhook may be (and how far ahead of our clock) before it is refused as a replay. */
  PAYMENT_WEBHOOK_TOLERANCE_SECONDS: positive.default(300),
  SAGA_TASK_QUEUE: z.string().min(1).default('trapeze-sagas'),
  // off: the worker polls unversioned (embedded stack, demo). on: it registers as a version of the
  // trapeze-sagas worker deployment (BUILD_ID, SAGA_VERSIONING_BEHAVIOR) and needs a rollout.
  SAGA_WORKER_VERSIONING: z.enum(['on', 'off']).default('off'),
  /** PINNED: a saga finishes on the build it started on. AUTO_UPGRADE: it moves to the current build (patches keep it safe). */
  SAGA_VERSIONING_BEHAVIOR: SagaVersioningBehavior.default('PINNED'),
  /** The build id a CI pipeline stamps; it must end with the workflow code's hash. Default: package version + that hash (platform/deployment.ts). */
  BUILD_ID: z.string().trim().min(1).optional(),
  // Reconciliation (reconciliation/, workers/reconciliation.ts): a Schedule runs it every interval.
  RECONCILIATION_SCHEDULE: z.enum(['on', 'off']).default('on'),
  RECONCILIATION_INTERVAL_SECONDS: positive.default(300),
  RECONCILIATION_TASK_QUEUE: z.string().min(1).default('trapeze-reconciliation'),
  RECONCILIATION_HTTP_PORT: port.default(9467),
  /** An unsent outbox row older than this is a finding. */
  RECONCILIATION_OUTBOX_LAG_BUDGET_SECONDS: positive.default(300),
  /** Events sent this recently may not have reached the order view yet. */
  RECONCILIATION_VIEW_SETTLE_SECONDS: positive.default(60),
  RECONCILIATION_SLA_GRACE_SECONDS: positive.default(60),
  // PAYLOAD_KEYS (payload encryption) and CODEC_SERVER_* (platform/codec/settings.ts).
  ...PayloadEnvironment.shape,
});

export function readConfig(env: NodeJS.ProcessEnv = process.env) {
  const e = Environment.parse(env);
  return {
    databaseUrl: e.DATABASE_URL,
    logLevel: e.LOG_LEVEL,
    temporal: { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE },
    kafka: {
      brokers: e.KAFKA_BROKERS.split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      topicPrefix: e.KAFKA_TOPIC_PREFIX,
    },
    saga: {
      httpPort: e.SAGA_HTTP_PORT,
      taskQueue: e.SAGA_TASK_QUEUE,
      versioning: e.SAGA_WORKER_VERSIONING === 'on',
      versioningBehavior: e.SAGA_VERSIONING_BEHAVIOR,
      buildId: e.BUILD_ID,
    },
    relay: {
      httpPort: e.RELAY_HTTP_PORT,
      batchSize: e.RELAY_BATCH_SIZE,
      maxBatchBytes: e.RELAY_MAX_BATCH_BYTES,
      pollMs: e.RELAY_POLL_MS,
      leaseMs: e.RELAY_LEASE_MS,
      sendTimeoutMs: e.RELAY_SEND_TIMEOUT_MS,
      maxAttempts: e.RELAY_MAX_ATTEMPTS,
      backoffMaxMs: e.RELAY_BACKOFF_MAX_MS,
      partitions: e.RELAY_TOPIC_PARTITIONS,
      retentionHours: e.RELAY_RETENTION_HOURS,
      crashAfterSends: e.RELAY_CRASH_AFTER_SENDS,
    },
    consumers: { retentionDays: e.CONSUMER_RETENTION_DAYS, crashAfterApplies: e.CONSUMER_CRASH_AFTER_APPLIES },
    notifications: {
      databaseUrl: e.NOTIFICATIONS_DATABASE_URL ?? e.DATABASE_URL,
      httpPort: e.NOTIFICATIONS_HTTP_PORT,
      killSwitchForced: e.NOTIFICATIONS_KILL_SWITCH === 'on',
    },
    /** Payload encryption keyring (undefined: off) and the codec server for the UI. */
    payloads: payloadSettings(e),
    api: {
      httpPort: e.API_HTTP_PORT,
      tokens: { inline: e.API_TOKENS ?? [], file: e.API_TOKENS_FILE },
      webhook: { secrets: e.PAYMENT_WEBHOOK_SECRET ?? [], toleranceSeconds: e.PAYMENT_WEBHOOK_TOLERANCE_SECONDS },
    },
    orderView: { databaseUrl: e.ORDER_VIEW_DATABASE_URL ?? e.DATABASE_URL, httpPort: e.ORDER_VIEW_HTTP_PORT },
    reconciliation: {
      schedule: e.RECONCILIATION_SCHEDULE === 'on',
      intervalSeconds: e.RECONCILIATION_INTERVAL_SECONDS,
      taskQueue: e.RECONCILIATION_TASK_QUEUE,
      httpPort: e.RECONCILIATION_HTTP_PORT,
      checks: {
        outboxLagBudgetSeconds: e.RECONCILIATION_OUTBOX_LAG_BUDGET_SECONDS,
        viewSettleSeconds: e.RECONCILIATION_VIEW_SETTLE_SECONDS,
        slaGraceSeconds: e.RECONCILIATION_SLA_GRACE_SECONDS,
      },
    },
  };
}
export type Config = ReturnType<typeof readConfig>;

/** The topic routing and group ids of KAFKA_TOPIC_PREFIX; none when it is unset. */
export function kafkaIsolation(
  config: Config,
): { route: (topic: string) => string; groupId: (consumer: string) => string } | undefined {
  const prefix = config.kafka.topicPrefix;
  if (!prefix) return undefined;
  return { route: (topic) => `${prefix}.${topic}`, groupId: (consumer) => `${prefix}.trapeze.${consumer}` };
}
