import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Admin, Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import pino, { type Logger } from 'pino';
import { BoundedContext, topicFor, type Envelope } from '../events/envelope';
import { toKafkaMessage } from '../events/kafka-binding';
import { capped } from '../platform/backoff';
import type { RelayMetrics } from './relay-metrics';
import type { OutboxRow, OutboxStore } from './store';

export interface RelayOptions {
  store: OutboxStore;
  kafka: Kafka;
  metrics?: RelayMetrics;
  log?: Logger;
  relayId?: string;
  /** Rows per claim and per Kafka request. */
  batchSize?: number;
  /** Envelope bytes per claim: with batchSize, what bounds the relay's memory. */
  maxBatchBytes?: number;
  /** How long a claim holds; must exceed the longest publish (see sendTimeoutMs). */
  leaseMs?: number;
  /** How long an idle relay waits before looking again, unless woken. */
  pollMs?: number;
  /** A publish that has not settled by then counts as failed (at-least-once: it may still land). */
  sendTimeoutMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Partitions and replication of the topics the relay creates. */
  partitions?: number;
  replicationFactor?: number;
  /** Batches in flight at once (claimed while the previous one is being acknowledged). */
  pipeline?: number;
  /** Maps an outbox topic to the Kafka topic; tests use it to isolate runs on a shared broker. */
  route?: (topic: string) => string;
}

export interface RelayStatus {
  running: boolean;
  /** The last Kafka round trip succeeded (or none was needed yet). */
  kafkaHealthy: boolean;
  consecutiveFailures: number;
  published: number;
  failures: number;
  lastError?: string;
  /** When the loop last came round: a liveness signal. */
  lastLoopAt: number;
}

export interface Relay {
  /** Runs until `stop`; the returned promise never rejects. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Cuts an idle wait short: call after appending, in-process. */
  wake(): void;
  status(): RelayStatus;
}

/**
 * Claims batches from the outbox, publishes them with an idempotent producer and marks them sent.
 * At-least-once: a row is marked only after Kafka acknowledged it (acks = all), so a crash in
 * between publishes it again. Per key order holds because the store hands out only whole key
 * prefixes and never a key with an unsent row elsewhere (so batches in flight share no key), the
 * producer keeps one request in flight (a retry cannot overtake), and a failed batch goes back to
 * the store whole, blocking its keys until its retry.
 */
export function createRelay(options: RelayOptions): Relay {
  const {
    store,
    kafka,
    metrics,
    relayId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    batchSize = 500,
    maxBatchBytes = 4 * 1024 * 1024,
    leaseMs = 60_000,
    pollMs = 50,
    sendTimeoutMs = 30_000,
    partitions = 6,
    replicationFactor = -1,
    route = (topic: string) => topic,
    pipeline = 2,
  } = options;
  const log = (options.log ?? pino({ name: 'relay' })).child({ relayId });
  const backoff = capped(options.backoff);
  const state: RelayStatus = {
    running: false,
    kafkaHealthy: true,
    consecutiveFailures: 0,
    published: 0,
    failures: 0,
    lastLoopAt: Date.now(),
  };
  let stopping = false;
  let loop: Promise<void> | undefined;
  let wakeUp: (() => void) | undefined;
  const knownTopics = new Set<string>();

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  // One producer shared by the batches in flight; concurrent callers share its connection attempt.
  let producer: Promise<Producer> | undefined;

  function connectedProducer(): Promise<Producer> {
    producer ??= (async () => {
      const p = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: true,
        // Short client retries: the relay's own backoff handles long outages and re-claims.
        retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 2_000 },
      });
      try {
        await p.connect();
      } catch (err) {
        await p.disconnect().catch(() => undefined);
        throw err;
      }
      return p;
    })();
    return producer;
  }

  async function dropProducer(): Promise<void> {
    // A fresh producer after a failure gets a new producer id: no sequence state to get stuck on.
    const p = producer;
    producer = undefined;
    await p?.then((connected) => connected.disconnect()).catch(() => undefined);
  }

  async function ensureTopics(topics: string[]): Promise<void> {
    const missing = topics.filter((t) => !knownTopics.has(t));
    if (missing.length === 0) return;
    const admin: Admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor })),
      });
      for (const t of missing) knownTopics.add(t);
    } finally {
      await admin.disconnect();
    }
  }

  function toTopicMessages(rows: OutboxRow[]): TopicMessages[] {
    const byTopic = new Map<string, Message[]>();
    for (const row of rows) {
      const topic = route(row.topic);
      const messages = byTopic.get(topic) ?? [];
      // The stored text was validated when appended; parsing gives the attributes for the headers.
      messages.push(toKafkaMessage(row.msgKey, JSON.parse(row.envelope) as Envelope));
      byTopic.set(topic, messages);
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  }

  async function publish(rows: OutboxRow[]): Promise<void> {
    const topicMessages = toTopicMessages(rows);
    await ensureTopics(topicMessages.map((t) => t.topic));
    const p = await connectedProducer();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`publish not acknowledged within ${sendTimeoutMs} ms`)), sendTimeoutMs);
    });
    try {
      await Promise.race([p.sendBatch({ topicMessages, acks: -1 }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  let resumeAt = 0;

  /** Counts the failure, gives the rows back for a later retry, and holds the loop back. */
  async function failed(stage: 'claim' | 'publish' | 'mark', rows: OutboxRow[], err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const delay = backoff.next();
    resumeAt = Math.max(resumeAt, Date.now() + delay);
    state.failures += 1;
    state.consecutiveFailures = backoff.failures;
    state.lastError = `${stage}: ${message}`;
    if (stage === 'publish') state.kafkaHealthy = false;
    metrics?.failures.inc({ stage });
    log.warn(
      { stage, err: message, rows: rows.length, retryInMs: delay, consecutive: backoff.failures },
      'relay attempt failed; backing off',
    );
    if (stage === 'publish') await dropProducer();
    if (rows.length > 0) {
      await store
        .recordFailure(
          relayId,
          rows.map((r) => r.seq),
          `${stage}: ${message}`,
          Date.now() + delay,
        )
        // If even that fails, the lease runs out and the rows come back by themselves.
        .catch((e: unknown) => log.warn({ err: String(e) }, 'could not record the failure; the claim will lapse'));
    }
  }

  /** Publishes one claimed batch and marks it sent; never throws. */
  async function deliver(rows: OutboxRow[]): Promise<void> {
    try {
      await publish(rows);
    } catch (err) {
      return failed('publish', rows, err);
    }
    state.kafkaHealthy = true;
    const sentAt = Date.now();
    try {
      const held = await store.markSent(
        relayId,
        rows.map((r) => r.seq),
        sentAt,
      );
      // Lost rows were re-claimed by another relay after our lease ran out: it publishes them again.
      if (held < rows.length)
        log.warn({ held, claimed: rows.length }, 'lease lapsed during publish; some events will be published twice');
    } catch (err) {
      return failed('mark', rows, err);
    }
    backoff.reset();
    state.consecutiveFailures = 0;
    state.published += rows.length;
    if (metrics) {
      metrics.batchSize.observe(rows.length);
      for (const row of rows) {
        metrics.published.inc({ topic: route(row.topic) });
        metrics.publicationLag.observe((sentAt - row.createdAt) / 1000);
      }
    }
  }

  /**
   * Up to `pipeline` batches are in flight: the next batch is claimed (database work) while the
   * previous one waits for Kafka's acknowledgement. This cannot reorder a key: a batch's keys
   * still have unsent rows, so no other batch can contain them until it is marked sent.
   */
  const inflight = new Set<Promise<void>>();

  async function turn(): Promise<void> {
    state.lastLoopAt = Date.now();
    if (Date.now() < resumeAt) return wait(resumeAt - Date.now());
    if (inflight.size >= pipeline) return Promise.race(inflight);
    let rows: OutboxRow[];
    try {
      rows = await store.claim({ relayId, limit: batchSize, maxBytes: maxBatchBytes, leaseMs });
    } catch (err) {
      return failed('claim', [], err);
    }
    // Nothing claimable: rows may be behind a batch in flight, so look again as soon as it lands.
    if (rows.length === 0) return inflight.size > 0 ? Promise.race(inflight) : wait(pollMs);
    const delivery: Promise<void> = deliver(rows).finally(() => inflight.delete(delivery));
    inflight.add(delivery);
  }

  async function run(): Promise<void> {
    // The bounded contexts' topics exist before the first event, with the partitions we choose;
    // a broker that is down now is retried with the first batch.
    await ensureTopics(BoundedContext.options.map((c) => route(topicFor(c)))).catch((err: unknown) =>
      log.warn({ err: String(err) }, 'could not create topics yet'),
    );
    state.running = true;
    log.info({ batchSize, pollMs, leaseMs, pipeline }, 'relay started');
    while (!stopping) {
      try {
        await turn();
      } catch (err) {
        // turn() handles its own failures; this is the last line that keeps the relay alive.
        log.error({ err: String(err) }, 'unexpected relay error');
        await wait(backoff.next());
      }
    }
    await Promise.all(inflight);
    await dropProducer();
    state.running = false;
    log.info({ published: state.published }, 'relay stopped');
  }

  return {
    start() {
      loop ??= run();
      return loop;
    },
    async stop() {
      stopping = true;
      wakeUp?.();
      await loop;
    },
    wake() {
      wakeUp?.();
    },
    status: () => ({ ...state }),
  };
}
