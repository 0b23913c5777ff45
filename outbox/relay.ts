// Over 250 lines on purpose: claim, send, mark and park are one state machine sharing the producer, the lease and the claim token; split, its invariants would scatter.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Partitioners, type Admin, type Kafka, type Message, type Producer, type TopicMessages } from 'kafkajs';
import pino, { type Logger } from 'pino';
import { BoundedContext, topicFor, type Envelope } from '../events/envelope';
import { toKafkaMessage } from '../events/kafka-binding';
import { capped } from '../platform/backoff';
import { publishFault, refusedByBroker, rowFault } from './publish-faults';
import type { RelayMetrics } from './relay-metrics';
import type { Claim, OutboxRow, OutboxStore } from './store';

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
  /** How long a claim holds (database clock); must exceed sendTimeoutMs with a margin, checked at start. */
  leaseMs?: number;
  /** How long an idle relay waits before looking again, unless woken. */
  pollMs?: number;
  /**
   * A batch not acknowledged this long after it was claimed counts as failed (at-least-once: it
   * may still land). It covers the wait for the producer, topic creation, connecting and the send.
   */
  sendTimeoutMs?: number;
  /** Failures the broker calls final (not an outage) a row may have before it is parked. */
  maxAttempts?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Partitions and replication of the topics the relay creates. */
  partitions?: number;
  replicationFactor?: number;
  /** Batches in flight at once (claimed and marked while another one is being sent). */
  pipeline?: number;
  /** Maps an outbox topic to the Kafka topic; tests use it to isolate runs on a shared broker. */
  route?: (topic: string) => string;
  /**
   * Called once a batch is acknowledged and before its rows are marked sent: the seam where a
   * crash publishes the batch twice. The fault suite kills the process here (RELAY_CRASH_AFTER_SENDS).
   */
  afterSend?: (rows: readonly OutboxRow[]) => void;
}

export interface RelayStatus {
  running: boolean;
  /** The last Kafka round trip succeeded (or none was needed yet). */
  kafkaHealthy: boolean;
  consecutiveFailures: number;
  published: number;
  failures: number;
  /** Rows this relay parked as dead letters. */
  parked: number;
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

/** Headroom a lease keeps over the send timeout, for marking the batch once it is acknowledged. */
export const LEASE_MARGIN_MS = 5_000;

/** A lease shorter than a batch may take to be acknowledged would hand its rows to a second relay. */
export function checkLease(leaseMs: number, sendTimeoutMs: number): void {
  if (leaseMs < sendTimeoutMs + LEASE_MARGIN_MS) {
    throw new Error(
      `RELAY_LEASE_MS (${leaseMs}) must be at least the send timeout (${sendTimeoutMs}, which covers topic creation, ` +
        `connecting and sending) plus ${LEASE_MARGIN_MS} ms to mark the batch sent`,
    );
  }
}

class DeadlineExceeded extends Error {}

/** At most this many abandoned sends may still be settling (kafkajs cannot cancel a send). */
const MAX_UNSETTLED = 3;

/**
 * Claims batches from the outbox, publishes them with an idempotent producer and marks them sent.
 * At-least-once: a row is marked only after Kafka acknowledged it (acks = all), so a crash in
 * between publishes it again. Per key order holds because the store hands out only whole key
 * prefixes and never a key with an unsent row elsewhere (so batches in flight share no key), the
 * producer has one send in flight (a retry cannot overtake), and a failed batch goes back to
 * the store whole, blocking its keys until its retry.
 *
 * One send at a time, never two on one producer: kafkajs hands a failed request's sequence
 * numbers back, so a second send queued behind a request that reached the broker but reported an
 * error would reuse them and be acknowledged as a duplicate, never written. For the same reason a
 * producer is replaced (new producer id, new sequences) after any failed send, which is safe here
 * because no other send is using it.
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
    maxAttempts = 10,
    partitions = 6,
    replicationFactor = -1,
    route = (topic: string) => topic,
    pipeline = 2,
  } = options;
  checkLease(leaseMs, sendTimeoutMs);
  const log = (options.log ?? pino({ name: 'relay' })).child({ relayId });
  const backoff = capped(options.backoff);
  const state: RelayStatus = {
    running: false,
    kafkaHealthy: true,
    consecutiveFailures: 0,
    published: 0,
    failures: 0,
    parked: 0,
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

  /**
   * Runs `work` until `deadline`; past it the caller gets DeadlineExceeded while `work` may go on.
   * `work` asks `expired()` before each step that must not start late.
   */
  async function withDeadline<T>(deadline: number, what: string, work: (expired: () => boolean) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let over = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          over = true;
          reject(new DeadlineExceeded(`${what} not done within ${sendTimeoutMs} ms of the claim`));
        },
        Math.max(0, deadline - Date.now()),
      );
    });
    const running = work(() => over);
    running.catch(() => undefined);
    try {
      return await Promise.race([running, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  // The one producer; it is replaced after a failed send (see above).
  let producer: Promise<Producer> | undefined;
  const unsettled = new Set<Promise<unknown>>();

  function connectedProducer(): Promise<Producer> {
    if (unsettled.size >= MAX_UNSETTLED)
      return Promise.reject(new Error(`${unsettled.size} abandoned sends have not settled yet`));
    producer ??= (async () => {
      const p = kafka.producer({
        // kafkajs's default since 2.0, named so it does not warn about the change at every start.
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: true,
        // Unlimited client retries, as an idempotent producer needs (a retry of a request that
        // reached the broker is recognised as a duplicate only under the same sequence); the
        // batch's deadline bounds how long the relay waits for them.
        retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 2_000 },
      });
      try {
        await p.connect();
      } catch (err) {
        await p.disconnect().catch(() => undefined);
        throw err;
      }
      return p;
    })();
    const current = producer;
    current.catch(() => {
      if (producer === current) producer = undefined;
    });
    return current;
  }

  async function dropProducer(): Promise<void> {
    const p = producer;
    producer = undefined;
    await p?.then((connected) => connected.disconnect()).catch(() => undefined);
  }

  async function ensureTopics(topics: string[]): Promise<void> {
    const missing = topics.filter((t) => !knownTopics.has(t));
    if (missing.length === 0) return;
    const admin: Admin = kafka.admin();
    try {
      await admin.connect();
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor })),
      });
      for (const t of missing) knownTopics.add(t);
    } finally {
      await admin.disconnect().catch(() => undefined);
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

  // Sends queue here: each waits for the previous one to settle (or to be abandoned).
  let sendTurn: Promise<void> = Promise.resolve();

  async function publish(rows: OutboxRow[], deadline: number): Promise<void> {
    let topicMessages: TopicMessages[];
    try {
      topicMessages = toTopicMessages(rows);
    } catch (err) {
      throw publishFault('encode', err);
    }
    // The next send waits for this one and for every one before it, even if this batch gives up
    // while still waiting its turn.
    const previous = sendTurn;
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    sendTurn = previous.then(() => mine);
    let sending: Promise<unknown> | undefined;
    try {
      await withDeadline(deadline, 'publish', async (expired) => {
        await previous;
        if (expired()) return;
        await ensureTopics(topicMessages.map((t) => t.topic));
        const p = await connectedProducer();
        if (expired()) return;
        sending = p.sendBatch({ topicMessages, acks: -1 });
        await sending;
      });
    } catch (err) {
      if (sending) {
        // Abandoned or failed: either way this producer's sequences can no longer be trusted. Only
        // a batch that sent drops it: one that gave up waiting must not drop the producer of the
        // send it was waiting for.
        const settling = sending.catch(() => undefined).finally(() => unsettled.delete(settling));
        unsettled.add(settling);
        await dropProducer();
      }
      throw err;
    } finally {
      done();
    }
  }

  let resumeAt = 0;

  /** Counts the failure, gives the rows back for a later retry (or parks them), holds the loop back. */
  async function failed(stage: 'claim' | 'publish' | 'mark', claim: Claim | undefined, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const delay = backoff.next();
    resumeAt = Math.max(resumeAt, Date.now() + delay);
    state.failures += 1;
    state.consecutiveFailures = backoff.failures;
    state.lastError = `${stage}: ${message}`;
    if (stage === 'publish') state.kafkaHealthy = false;
    metrics?.failures.inc({ stage });
    log.warn(
      { stage, err: message, rows: claim?.rows.length ?? 0, retryInMs: delay, consecutive: backoff.failures },
      'relay attempt failed; backing off',
    );
    if (!claim || claim.rows.length === 0) return;
    try {
      let rows = claim.rows;
      // The broker refused (not an outage): after maxAttempts such refusals a row is parked.
      if (stage === 'publish' && refusedByBroker(err)) {
        const exhausted = rows.filter((r) => r.attempts + 1 >= maxAttempts);
        for (const row of exhausted) await park(claim.token, row, `attempts exhausted (${maxAttempts}): ${message}`);
        rows = rows.filter((r) => !exhausted.includes(r));
      }
      await store.recordFailure(
        claim.token,
        rows.map((r) => r.seq),
        `${stage}: ${message}`,
        delay,
      );
    } catch (e) {
      // If even that fails, the lease runs out and the rows come back by themselves.
      log.warn({ err: String(e) }, 'could not record the failure; the claim will lapse');
    }
  }

  async function park(token: string, row: OutboxRow, reason: string): Promise<void> {
    if (!(await store.park(token, row.seq, reason))) return;
    state.parked += 1;
    metrics?.parked.inc();
    log.error(
      { seq: row.seq, eventId: row.id, topic: row.topic, key: row.msgKey, type: row.type, bytes: row.envelope.length, reason },
      "outbox row parked as a dead letter; its key's later events wait behind it until `npx trapeze outbox redrive`",
    );
  }

  function published(rows: OutboxRow[], sentAt: number): void {
    state.published += rows.length;
    if (!metrics) return;
    metrics.batchSize.observe(rows.length);
    for (const row of rows) {
      metrics.published.inc({ topic: route(row.topic) });
      metrics.publicationLag.observe((sentAt - row.createdAt) / 1000);
    }
  }

  /**
   * A batch the broker rejected for its records (one too large, say): halves are sent on their
   * own until the failing rows stand alone and are parked; every other row is published, except a
   * parked row's later rows, which go back to wait behind it. Each half has its own deadline.
   */
  async function isolate(claim: Claim, first: unknown): Promise<void> {
    const key = (r: OutboxRow) => `${r.topic}\u0000${r.msgKey}`;
    const stuck = new Set<string>();
    let lapsed = false;
    const part = async (rows: OutboxRow[], fault: unknown): Promise<void> => {
      const go = rows.filter((r) => !stuck.has(key(r)));
      if (go.length === 0 || lapsed) return;
      if (fault === undefined) {
        try {
          await publish(go, Date.now() + sendTimeoutMs);
        } catch (err) {
          if (!rowFault(err)) throw err;
          fault = err;
        }
      }
      if (fault !== undefined) {
        if (go.length === 1) {
          stuck.add(key(go[0]!));
          return park(claim.token, go[0]!, fault instanceof Error ? fault.message : JSON.stringify(fault));
        }
        const mid = Math.ceil(go.length / 2);
        await part(go.slice(0, mid), undefined);
        return part(go.slice(mid), undefined);
      }
      const sentAt = Date.now();
      const marked = await store.markSent(
        claim.token,
        go.map((r) => r.seq),
        { sentAt, keepClaim: true },
      );
      if (marked === 0) lapsed = true;
      else published(go, sentAt);
    };
    log.warn({ rows: claim.rows.length, err: String(first) }, 'Kafka rejected records of a batch; isolating them');
    try {
      await part(claim.rows, first);
    } catch (err) {
      // Kafka failed otherwise meanwhile: what is neither sent nor parked goes back for a retry.
      return failed('publish', claim, err);
    }
    state.kafkaHealthy = true;
    await store.release(claim.token).catch(() => undefined);
  }

  /** Publishes one claimed batch and marks it sent; never throws. */
  async function deliver(claim: Claim, claimedAt: number): Promise<void> {
    const { rows } = claim;
    try {
      await publish(rows, claimedAt + sendTimeoutMs);
    } catch (err) {
      if (rowFault(err)) return isolate(claim, err).catch((e: unknown) => failed('publish', claim, e));
      return failed('publish', claim, err);
    }
    state.kafkaHealthy = true;
    options.afterSend?.(rows);
    // The next claim acknowledges the batch: SQLite marks it there, PostgreSQL beside it (see turn).
    acknowledged.push({ claim, sentAt: Date.now() });
  }

  /** Marks a published batch sent (ending its claim); never throws. */
  async function mark(claim: Claim, sentAt: number): Promise<void> {
    let held: number;
    try {
      held = await store.markSent(
        claim.token,
        claim.rows.map((r) => r.seq),
        { sentAt },
      );
    } catch (err) {
      return failed('mark', claim, err);
    }
    marked(claim, sentAt, held);
  }

  function marked(claim: Claim, sentAt: number, held: number): void {
    const { rows } = claim;
    // The claim lapsed during the publish and its rows may be claimed again: they go out twice.
    if (held < rows.length)
      log.warn({ held, claimed: rows.length }, 'lease lapsed during publish; some events will be published twice');
    backoff.reset();
    state.consecutiveFailures = 0;
    published(rows, sentAt);
  }

  /**
   * Up to `pipeline` batches are in flight: the next batch is claimed (database work) while the
   * previous one is sent, and marked while the next one is sent. This cannot reorder a key: a
   * batch's keys still have unsent rows, so no other batch can contain them until it is marked.
   */
  const inflight = new Set<Promise<void>>();

  /**
   * A published batch is acknowledged by the next claim instead of being marked on its own. On
   * PostgreSQL marking is a round trip and a commit (before the unsent queue it rewrote each row,
   * as costly as the claim), and the next claim of the same keys had to wait for it: there the
   * claim frees the batch's keys (its rows stay held) and the mark runs beside that claim and the
   * next send. On SQLite the claim marks the batch in its own transaction: every write waits for
   * the one write lock, which writers in other processes hold most of the time. Still in order: a
   * batch is acknowledged only once Kafka has it, and sends go one at a time in claim order. At
   * most `pipeline` marks run at once, so memory stays bounded.
   */
  const acknowledged: { claim: Claim; sentAt: number }[] = [];
  const marking = new Set<Promise<void>>();

  function markBehind(batches: { claim: Claim; sentAt: number }[]): void {
    for (const { claim, sentAt } of batches) {
      const marked: Promise<void> = mark(claim, sentAt).finally(() => marking.delete(marked));
      marking.add(marked);
    }
  }

  async function turn(): Promise<void> {
    state.lastLoopAt = Date.now();
    if (Date.now() < resumeAt) {
      markBehind(acknowledged.splice(0));
      return wait(resumeAt - Date.now());
    }
    if (inflight.size >= pipeline) return Promise.race(inflight);
    if (marking.size >= pipeline) return Promise.race(marking);
    let claim: Claim;
    const claimedAt = Date.now();
    const acks = acknowledged.splice(0);
    try {
      claim = await store.claim({
        relayId,
        limit: batchSize,
        maxBytes: maxBatchBytes,
        leaseMs,
        acknowledged: acks.map((a) => ({ token: a.claim.token, sentAt: a.sentAt })),
      });
    } catch (err) {
      markBehind(acks);
      return failed('claim', undefined, err);
    }
    // SQLite: the claim marked them. PostgreSQL: only now, since a mark running while the claim
    // acknowledges its batch would make the claim wait.
    const { marked: held } = claim;
    if (held) acks.forEach((a, i) => marked(a.claim, a.sentAt, held[i] ?? 0));
    else markBehind(acks);
    // Nothing claimable: rows may be behind a batch in flight, so look again as soon as it lands.
    if (claim.rows.length === 0) {
      if (acknowledged.length > 0) return; // acknowledged meanwhile: their keys' next rows may go now
      return inflight.size > 0 ? Promise.race(inflight) : wait(pollMs);
    }
    const delivery: Promise<void> = deliver(claim, claimedAt).finally(() => inflight.delete(delivery));
    inflight.add(delivery);
  }

  async function run(): Promise<void> {
    // The bounded contexts' topics exist before the first event, with the partitions we choose;
    // a broker that is down now is retried with the first batch. Bounded like a send.
    await withDeadline(Date.now() + sendTimeoutMs, 'creating the topics', () =>
      ensureTopics(BoundedContext.options.map((c) => route(topicFor(c)))),
    ).catch((err: unknown) => log.warn({ err: String(err) }, 'could not create topics yet'));
    state.running = true;
    log.info({ batchSize, pollMs, leaseMs, sendTimeoutMs, pipeline }, 'relay started');
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
    markBehind(acknowledged.splice(0));
    await Promise.all(marking);
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
