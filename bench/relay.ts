import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Message } from 'kafkajs';
import pino from 'pino';
import { Client } from 'pg';
import { envelope, type NewEvent } from '../events/envelope';
import { fromKafkaMessage, toKafkaMessage } from '../events/kafka-binding';
import { appendEvent } from '../outbox/append';
import { openDatabase, type Database } from '../platform/database';
import { migrate, outboxMigrations } from '../platform/migrations';
import { createRelay } from '../outbox/relay';
import { openOutboxStore } from '../outbox/store';

/**
 * `npm run bench:relay`: the relay against a raw kafkajs producer, in one process, on one broker.
 *
 * 1. Throughput: N events already in the outbox, drained by the relay (claim, publish, mark sent),
 *    against the same N messages (same keys, headers, values) sent by a raw idempotent producer,
 *    same batch size, acks = all, one request in flight. ROUNDS rounds, each measuring both back
 *    to back; the ratio printed last is the median of the rounds' ratios.
 * 2. Publication lag at a steady offered rate: events appended one transaction each at RATE/s for
 *    SECONDS while the relay runs with its defaults; lag = sent_at - created_at (the row's own
 *    clock, as the oldest-unsent-age metric sees it) and end to end, consumer receipt - append.
 *
 * Environment: KAFKA_BROKERS (default 127.0.0.1:9092), BENCH_N (20000), BENCH_BATCH (500),
 * BENCH_ROUNDS (5), BENCH_RATE (1000), BENCH_SECONDS (10), BENCH_PARTITIONS (6),
 * BENCH_POSTGRES_URL (a server URL: bench the PostgreSQL store in a fresh database instead of
 * SQLite in a temp file). The last line is `relay/raw ratio: <number>`.
 */
const env = process.env;
const brokers = (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const N = Number(env.BENCH_N ?? 20_000);
const BATCH = Number(env.BENCH_BATCH ?? 500);
const ROUNDS = Number(env.BENCH_ROUNDS ?? 5);
const RATE = Number(env.BENCH_RATE ?? 1_000);
const SECONDS = Number(env.BENCH_SECONDS ?? 10);
const PARTITIONS = Number(env.BENCH_PARTITIONS ?? 6);
const PIPELINE = env.BENCH_PIPELINE ? Number(env.BENCH_PIPELINE) : undefined;
const ORDERS = 1_000;
const run = randomUUID().slice(0, 8);
const quiet = pino({ level: 'silent' });
const kafka = new Kafka({ clientId: 'bench-relay', brokers, logLevel: logLevel.NOTHING });

const event = (i: number): NewEvent => {
  const orderId = `order-${run}-${i % ORDERS}`;
  return {
    context: 'orders',
    type: `Step${Math.floor(i / ORDERS)}`,
    schemaVersion: 1,
    orderId,
    causationId: `${orderId}/${i}/${randomUUID()}`,
    correlationId: `order-${orderId}`,
    data: { orderId, amount: i, lines: [{ sku: `sku-${i % 97}`, qty: 1 + (i % 3) }] },
  };
};

interface Store {
  db: Database;
  label: string;
  dispose(): Promise<void>;
}

async function openStore(): Promise<Store> {
  const server = env.BENCH_POSTGRES_URL;
  if (server) {
    const name = `trapeze_bench_${randomBytes(4).toString('hex')}`;
    const admin = new Client({ connectionString: server });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    const db = openDatabase(url.toString());
    await migrate(db, outboxMigrations);
    return {
      db,
      label: 'postgresql',
      dispose: async () => {
        await db.close();
        await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
        await admin.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'trapeze-bench-'));
  const db = openDatabase(`sqlite:${join(dir, 'outbox.db')}`);
  await migrate(db, outboxMigrations);
  return {
    db,
    label: 'sqlite (WAL)',
    dispose: async () => void (await db.close(), rmSync(dir, { recursive: true, force: true })),
  };
}

async function createTopic(topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS }] });
  await admin.disconnect();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const rate = (n: number, ms: number) => Math.round((n * 1000) / ms);

async function rawRound(round: number): Promise<number> {
  const topic = `bench.raw.${run}.${round}`;
  await createTopic(topic);
  const messages: Message[] = Array.from({ length: N }, (_, i) => {
    const e = event(i);
    return toKafkaMessage(e.orderId, envelope(e));
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: messages.slice(0, 1) }); // warm the connection
  const began = performance.now();
  for (let i = 0; i < N; i += BATCH) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + BATCH) });
  const ms = performance.now() - began;
  await producer.disconnect();
  return ms;
}

async function relayRound(round: number): Promise<number> {
  const store = await openStore();
  const { db } = store;
  const topic = `bench.relay.${run}.${round}`;
  await createTopic(topic);
  const outbox = openOutboxStore(db);
  const relay = createRelay({
    store: outbox,
    kafka,
    log: quiet,
    route: () => topic,
    batchSize: BATCH,
    partitions: PARTITIONS,
    pipeline: PIPELINE,
  });
  const loop = relay.start();
  // Warm up like the raw producer: one event through, so the connection exists.
  await db.transaction((tx) => appendEvent(tx, event(-1)));
  while (relay.status().published < 1) await sleep(5);
  // The outbox fills first, the topic paused so nothing leaves yet (not timed); then the relay
  // drains it.
  await outbox.pause('trapeze.orders', 'benchmark: filling the outbox');
  for (let i = 0; i < N; i += 1_000) {
    await db.transaction(async (tx) => {
      for (let j = i; j < Math.min(N, i + 1_000); j++) await appendEvent(tx, event(j));
    });
  }
  if (relay.status().published !== 1) throw new Error('the relay published while the outbox was filling');
  await outbox.resume('trapeze.orders');
  const began = performance.now();
  relay.wake();
  while (relay.status().published < N + 1) await sleep(2);
  const ms = performance.now() - began;
  await relay.stop();
  await loop;
  await store.dispose();
  return ms;
}

async function lagRun(): Promise<{ label: string; publication: number[]; endToEnd: number[]; offered: number; seconds: number }> {
  const store = await openStore();
  const { db } = store;
  const topic = `bench.lag.${run}`;
  await createTopic(topic);
  const outbox = openOutboxStore(db);
  const relay = createRelay({ store: outbox, kafka, log: quiet, route: () => topic });
  const loop = relay.start();
  const endToEnd: number[] = [];
  const consumer = kafka.consumer({ groupId: `bench-lag-${run}`, maxWaitTimeInMs: 20 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const received = Date.now();
      endToEnd.push(received - Date.parse(fromKafkaMessage(message).time));
    },
  });
  while (!relay.status().running) await sleep(10);
  await sleep(2_000); // let the consumer join its group before the clock starts

  const total = RATE * SECONDS;
  const began = Date.now();
  let appended = 0;
  while (appended < total) {
    const due = Math.min(total, Math.floor(((Date.now() - began) * RATE) / 1000));
    // Several writers at once, as several saga workers would be (PostgreSQL round trips would
    // otherwise cap one writer below the offered rate); SQLite serialises them anyway.
    const writes: Promise<unknown>[] = [];
    while (appended < due) {
      const i = appended++;
      writes.push(db.transaction((tx) => appendEvent(tx, event(i))));
      if (writes.length >= 8) await Promise.all(writes.splice(0));
    }
    await Promise.all(writes);
    await sleep(1);
  }
  const seconds = (Date.now() - began) / 1000;
  while (relay.status().published < total || endToEnd.length < total) await sleep(20);
  const rows = await db.all<{ lag: number }>('SELECT sent_at - created_at AS lag FROM outbox WHERE sent_at IS NOT NULL');
  await consumer.disconnect();
  await relay.stop();
  await loop;
  await store.dispose();
  return {
    label: store.label,
    publication: rows.map((r) => Number(r.lag)).sort((a, b) => a - b),
    endToEnd: endToEnd.sort((a, b) => a - b),
    offered: Math.round(total / seconds),
    seconds,
  };
}

async function main(): Promise<void> {
  console.log(
    `relay benchmark: N=${N} events, batch ${BATCH}, acks=all, idempotent, 1 in flight, ${PARTITIONS} partitions, brokers ${brokers.join(',')}`,
  );
  // This machine is shared and its load swings, so each round measures the two back to back
  // (alternating which goes first) and the ratio is the median of the rounds' ratios.
  const raw: number[] = [];
  const relayed: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let r: number;
    let q: number;
    if (round % 2 === 0) {
      r = await rawRound(round);
      q = await relayRound(round);
    } else {
      q = await relayRound(round);
      r = await rawRound(round);
    }
    raw.push(rate(N, r));
    relayed.push(rate(N, q));
    ratios.push(rate(N, q) / rate(N, r));
    console.log(
      `round ${round + 1}: raw ${rate(N, r)} events/s, relay ${rate(N, q)} events/s, ratio ${(rate(N, q) / rate(N, r)).toFixed(2)}`,
    );
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  console.log(`raw producer: ${median(raw)} events/s (median of ${ROUNDS}; best ${Math.max(...raw)})`);
  console.log(`relay:        ${median(relayed)} events/s (median of ${ROUNDS}; best ${Math.max(...relayed)})`);

  const lag = await lagRun();
  const fmt = (xs: number[]) => `p50 ${percentile(xs, 50)} ms, p99 ${percentile(xs, 99)} ms, max ${xs[xs.length - 1]} ms`;
  console.log(
    `store: ${lag.label}; offered ${lag.offered} events/s for ${lag.seconds.toFixed(1)} s (one transaction per event, up to 8 writers)`,
  );
  console.log(`publication lag (sent - appended): ${fmt(lag.publication)}`);
  console.log(`end-to-end lag (consumed - appended): ${fmt(lag.endToEnd)}`);
  console.log(`relay/raw ratio: ${median(ratios).toFixed(2)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
