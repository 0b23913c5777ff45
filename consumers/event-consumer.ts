// Over 250 lines on purpose: one consumer loop (batch, dedupe, upcast, dead-letter, offsets) whose steps depend on each other's ordering.
import {
  Partitioners,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type Kafka,
  type KafkaMessage,
  type Producer,
} from 'kafkajs';
import pino, { type Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { topicFor } from '../events/envelope';
import type { EventCatalog } from '../events/definition';
import type { ConsumerContract } from '../events/consumer-contracts';
import { UnreadableEvent } from '../events/unreadable';
import type { ReadEvent, Upcasters } from '../events/upcasting';
import { SpanKind } from '@opentelemetry/api';
import { capped } from '../platform/backoff';
import { contextOf, inSpan } from '../platform/trace-context';
import type { Database, Sql } from '../platform/database';
import { deadLetterTopic, sendToDeadLetter } from './dead-letter';
import { processedEventsTable, recordProcessed, type Origin } from './processed-events';
import { decodeEnvelope, readEvent } from './read-message';

/**
 * What a consumer does with one event, inside the transaction that also records it as processed.
 * It may return what must happen after the commit and outside any transaction (a network call):
 * it runs once the chunk committed; if it fails, what it left undone must be recoverable from
 * the committed state (the notifications' `pending` rows are).
 */
export type ApplyEvent = (tx: Sql, event: ReadEvent, origin: Origin) => Promise<void | AfterCommit>;
export type AfterCommit = () => Promise<unknown>;

export interface EventConsumerOptions {
  /** The consumer's name: its contract, its processed-events table, its metrics label. */
  name: string;
  kafka: Kafka;
  db: Database;
  catalog: EventCatalog;
  upcasters: Upcasters;
  /** What it reads: also decides which topics it subscribes to and which types it ignores. */
  contract: ConsumerContract;
  apply: ApplyEvent;
  groupId?: string;
  /** Maps a context topic to the Kafka topic; tests use it to isolate runs on a shared broker. */
  route?: (topic: string) => string;
  log?: Logger;
  registry?: Registry;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Events applied per database transaction at most (one partition's consecutive events). */
  chunkSize?: number;
  /**
   * Called once a chunk's effects committed (and its after-commit steps ran) and before its
   * offsets are resolved: the seam where a crash hands the events out again. The fault suite
   * kills the process here (CONSUMER_CRASH_AFTER_APPLIES).
   */
  afterApply?: () => void;
}

export interface EventConsumerStatus {
  running: boolean;
  /** Joined its group and not stuck retrying an effect. */
  ready: boolean;
  applied: number;
  duplicates: number;
  ignored: number;
  deadLettered: number;
  consecutiveFailures: number;
  lastError?: string;
}

export interface EventConsumer {
  /** The Kafka topics it subscribes to. */
  readonly topics: readonly string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): EventConsumerStatus;
}

type Outcome = 'applied' | 'duplicate' | 'ignored' | 'dead_lettered';

/**
 * A Kafka consumer group member that reads events the safe way: decode and validate the envelope,
 * upcast to the newest version, ignore unknown fields and event types it does not read, apply the
 * effect and record the event id in one transaction (so redelivery and replay change nothing),
 * park poison messages in the dead-letter topic and go on. A failing effect (the database is
 * down) is retried in place with backoff: skipping it would break per-order order.
 */
export function createEventConsumer(options: EventConsumerOptions): EventConsumer {
  const { name, kafka, db, catalog, upcasters, contract, apply, route = (t: string) => t } = options;
  const groupId = options.groupId ?? `trapeze.${name}`;
  const log = (options.log ?? pino({ name })).child({ consumer: name, groupId });
  const reads = new Set(contract.reads.map((r) => r.type));
  const topics = [...new Set(contract.reads.map((r) => catalog[r.type]?.context).filter((c) => c !== undefined))].map((c) =>
    route(topicFor(c)),
  );
  const backoff = capped({ initialMs: 100, maxMs: 5_000, ...options.backoff });
  const chunkSize = options.chunkSize ?? 100;
  const state: EventConsumerStatus = {
    running: false,
    ready: false,
    applied: 0,
    duplicates: 0,
    ignored: 0,
    deadLettered: 0,
    consecutiveFailures: 0,
  };
  const registers = options.registry ? [options.registry] : [];
  // Several consumers may share one process and registry: the metric is shared, the label differs.
  const counter = (metric: string, help: string, labelNames: string[]) =>
    (options.registry?.getSingleMetric(metric) as Counter | undefined) ??
    new Counter({ name: metric, help, labelNames, registers });
  const events = counter('trapeze_consumer_events_total', 'Events handled by a consumer, by outcome', ['consumer', 'outcome']);
  const failures = counter('trapeze_consumer_apply_failures_total', 'Failed attempts to apply an event (each is retried)', [
    'consumer',
  ]);
  let consumer: Consumer | undefined;
  let producer: Producer | undefined;
  let stopping = false;

  const count = (outcome: Outcome) => {
    events.inc({ consumer: name, outcome });
    if (outcome === 'applied') state.applied += 1;
    else if (outcome === 'duplicate') state.duplicates += 1;
    else if (outcome === 'ignored') state.ignored += 1;
    else state.deadLettered += 1;
  };

  type Readable = { event: ReadEvent; origin: Origin };

  /**
   * One Kafka batch of one partition, in order. Readable events are applied in chunks, one
   * transaction per chunk (the dedupe rows commit with the effects, so a chunk is all-or-nothing);
   * a poison message first flushes the chunk before it, then goes to the dead-letter topic.
   * Offsets are resolved only after what they cover has committed.
   */
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kafkajs hands out closures, not methods
  async function handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    let chunk: Readable[] = [];
    let covered: string | undefined; // the last offset the pending chunk accounts for
    const flush = async () => {
      if (chunk.length > 0) await applyChunk(chunk, heartbeat);
      if (covered !== undefined) resolveOffset(covered);
      chunk = [];
      covered = undefined;
      await heartbeat();
    };
    for (const message of batch.messages) {
      // Rebalanced away or stopping: what is not resolved is read again by the next owner.
      if (!isRunning() || isStale()) return;
      const origin: Origin = { topic, partition, offset: message.offset };
      try {
        const envelope = decodeEnvelope(message);
        if (reads.has(envelope.type)) chunk.push({ event: readEvent(catalog, upcasters, envelope), origin });
        else count('ignored');
        covered = message.offset;
      } catch (err) {
        if (!(err instanceof UnreadableEvent)) throw err;
        await flush();
        await deadLetter(topic, partition, message, err, origin);
        resolveOffset(message.offset);
        continue;
      }
      if (chunk.length >= chunkSize) await flush();
    }
    await flush();
  }

  async function deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    why: UnreadableEvent,
    origin: Origin,
  ): Promise<void> {
    // Poison has no trustworthy id: its position is its identity, so a replay does not park it twice.
    const poisonId = `poison:${topic}/${partition}/${message.offset}`;
    if (await db.get(`SELECT 1 AS seen FROM ${processedEventsTable(name)} WHERE event_id = ?`, [poisonId]))
      return count('duplicate');
    await sendToDeadLetter(producer as Producer, name, { topic, partition, message }, why);
    await db.transaction((tx) => recordProcessed(tx, name, poisonId, `(${why.reason})`, origin));
    log.warn(
      { topic, partition, offset: message.offset, reason: why.reason, detail: why.detail },
      'poison event sent to the dead-letter topic',
    );
    count('dead_lettered');
  }

  async function applyChunk(chunk: Readable[], heartbeat: () => Promise<void>): Promise<void> {
    for (;;) {
      try {
        const afterCommit: AfterCommit[] = [];
        const outcomes = await db.transaction(async (tx) => {
          afterCommit.length = 0; // a retried chunk starts over
          const done: Outcome[] = [];
          for (const { event, origin } of chunk) {
            if (!(await recordProcessed(tx, name, event.envelope.id, event.type, origin))) {
              done.push('duplicate');
              continue;
            }
            // The effect continues the trace the event was written in (its ce_traceparent).
            const then = await inSpan(
              `${name} process ${event.type}`,
              {
                kind: SpanKind.CONSUMER,
                parent: contextOf(event.envelope.traceparent),
                attributes: {
                  'messaging.system': 'kafka',
                  'messaging.operation.type': 'process',
                  'messaging.destination.name': origin.topic,
                  'messaging.consumer.group.name': groupId,
                  'messaging.message.id': event.envelope.id,
                  'trapeze.consumer': name,
                  'trapeze.order_id': event.envelope.subject,
                },
              },
              () => apply(tx, event, origin),
            );
            if (then) afterCommit.push(then);
            done.push('applied');
          }
          return done;
        });
        for (const then of afterCommit) {
          await then().catch((err: unknown) =>
            log.warn({ err: (err as Error).message }, 'after-commit step failed; its committed state is retried later'),
          );
        }
        backoff.reset();
        state.consecutiveFailures = 0;
        state.ready = true;
        outcomes.forEach(count);
        options.afterApply?.();
        return;
      } catch (err) {
        if (stopping) throw err; // the offsets stay unresolved: the next member applies them
        const delay = backoff.next();
        state.consecutiveFailures = backoff.failures;
        state.lastError = (err as Error).message;
        state.ready = false;
        failures.inc({ consumer: name });
        const first = chunk[0]?.event;
        log.warn(
          { eventId: first?.envelope.id, type: first?.type, events: chunk.length, err: state.lastError, retryInMs: delay },
          'applying events failed; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
        await heartbeat();
      }
    }
  }

  /**
   * The relay creates the context topics with the partitions it chooses; a consumer started first
   * waits for them (creating them itself would fix their partition count by accident).
   */
  async function topicsReady(admin: Admin, needed: string[]): Promise<void> {
    const wait = capped({ initialMs: 100, maxMs: 2_000 });
    for (;;) {
      const existing = new Set(await admin.listTopics());
      const missing = needed.filter((t) => !existing.has(t));
      if (missing.length === 0) {
        const meta = await admin.fetchTopicMetadata({ topics: needed }).catch(() => ({ topics: [] }));
        const led = meta.topics.filter((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
        if (led.length === needed.length) return;
      }
      if (stopping) throw new Error('stopped while waiting for topics');
      if (wait.failures === 0 || wait.failures % 10 === 0)
        log.info({ missing }, 'waiting for the context topics (the relay creates them)');
      await new Promise((resolve) => setTimeout(resolve, wait.next()));
    }
  }

  return {
    topics,
    async start() {
      stopping = false;
      producer = kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: true,
      });
      await producer.connect();
      const admin = kafka.admin();
      await admin.connect();
      try {
        // The dead-letter topics exist before the first poison message; source topics are the relay's.
        // (No waitForLeaders: KRaft may briefly answer "unknown topic" for a topic it just created.)
        await admin.createTopics({
          waitForLeaders: false,
          topics: topics.map((t) => ({ topic: deadLetterTopic(t), numPartitions: 1 })),
        });
        await topicsReady(admin, [...topics, ...topics.map(deadLetterTopic)]);
      } finally {
        await admin.disconnect();
      }
      consumer = kafka.consumer({ groupId, allowAutoTopicCreation: true, retry: { restartOnFailure: async () => !stopping } });
      consumer.on(consumer.events.GROUP_JOIN, () => {
        state.ready = state.consecutiveFailures === 0;
      });
      consumer.on(consumer.events.CRASH, (e) => {
        state.ready = false;
        state.lastError = String(e.payload.error);
      });
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({ autoCommitInterval: 500, eachBatchAutoResolve: false, eachBatch: handleBatch });
      state.running = true;
      log.info({ topics }, 'consumer started');
    },
    async stop() {
      stopping = true;
      await consumer?.disconnect();
      await producer?.disconnect();
      state.running = false;
      state.ready = false;
      log.info({ applied: state.applied, duplicates: state.duplicates, deadLettered: state.deadLettered }, 'consumer stopped');
    },
    status: () => ({ ...state }),
  };
}
