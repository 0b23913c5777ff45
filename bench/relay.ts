// Over 250 lines on purpose: a benchmark script read top to bottom (set-up, rounds, scaling, lag, report).
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Message } from 'kafkajs';
import pino from 'pino';
import { Client } from 'pg';
import { envelope } from '../events/envelope';
import { toKafkaMessage } from '../events/kafka-binding';
import { ensureKafka } from '../infra/kafka';
import { ensurePostgres } from '../infra/postgres';
import type { Service } from '../infra/supervise';
import { appendEvent } from '../outbox/append';
import { openDatabase, type Database } from '../platform/database';
import { migrate, outboxMigrations } from '../platform/migrations';
import { createRelay, type Relay } from '../outbox/relay';
import { openOutboxStore } from '../outbox/store';
import { benchEvent } from './relay-events';

/**
 * `npm run bench:relay`: the relay against a raw kafkajs producer, in one process, on one broker,
 * on SQLite and on PostgreSQL side by side. Kafka and PostgreSQL are found as the tests find them
 * (KAFKA_BROKERS, POSTGRES_URL, else the embedded stack's ports, started when nothing answers).
 *
 * 1. Throughput: N events already in the outbox, drained by the relay (claim, publish, mark sent),
 *    against the same N messages (same keys, headers, values) sent by a raw idempotent producer,
 *    same batch size, acks = all, one request in flight. ROUNDS rounds per store, each timing the
 *    raw producer just before and just after the drain; a store's ratio is the median of its
 *    rounds' ratios (relay against the mean of its two raw timings).
 * 2. Scaling (PostgreSQL): the same N events drained by 1, 2 and 4 relays, each with its own pool.
 * 3. Publication lag at a steady offered rate: RATE events/s appended for SECONDS by concurrent
 *    writers (a process of their own, BENCH_TX_EVENTS events per transaction) while the relay
 *    runs with its defaults; lag = outbox_sent.sent_at - created_at (the row's own clock, as the
 *    oldest-unsent-age metric sees it), the same from the commit of the row's transaction (when the
 *    relay can first see it), and end to end, consumer receipt (a process of its own) - append.
 *
 * Environment: BENCH_N (20000), BENCH_BATCH (500), BENCH_ROUNDS (3), BENCH_RATE (5000),
 * BENCH_SECONDS (10), BENCH_TX_EVENTS (events per writer transaction in the lag run, 10),
 * BENCH_PARTITIONS (6), BENCH_PIPELINE, BENCH_STORES (sqlite,postgres), BENCH_SCALING (1,2,4).
 * The last line is `relay/raw ratio: <n>`, the lower of the two stores.
 */
const env = process.env;
const N = Number(env.BENCH_N ?? 20_000);
const BATCH = Number(env.BENCH_BATCH ?? 500);
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const RATE = Number(env.BENCH_RATE ?? 5_000);
const SECONDS = Number(env.BENCH_SECONDS ?? 10);
// One event per transaction offers ~550 events/s on PostgreSQL here (load 10-20 on 2 cores): the
// writers, not the relay, would set the rate. Ten per transaction reach the 5,000/s to measure.
const TX_EVENTS = Number(env.BENCH_TX_EVENTS ?? 10);
const PARTITIONS = Number(env.BENCH_PARTITIONS ?? 6);
const PIPELINE = env.BENCH_PIPELINE ? Number(env.BENCH_PIPELINE) : undefined;
const STORES = (env.BENCH_STORES ?? 'sqlite,postgres').split(',') as Kind[];
const SCALING = (env.BENCH_SCALING ?? '1,2,4').split(',').filter(Boolean).map(Number);
const run = randomUUID().slice(0, 8);
const quiet = pino({ level: 'silent' });
type Kind = 'sqlite' | 'postgres';

let kafka: Kafka;
let brokers: string;
let postgresServer: string | undefined;

const event = (i: number, orders?: number) => benchEvent(run, i, orders);

// Opened as the relay worker opens its own connection (the lag run's writers open theirs as saga workers do).
const relayConnection = { commitsWaitForDisk: false };

interface Store {
  db: Database;
  url: string;
  open(): Database;
  dispose(): Promise<void>;
}

async function openStore(kind: Kind): Promise<Store> {
  if (kind === 'postgres') {
    const server = postgresServer!;
    const name = `trapeze_bench_${randomBytes(4).toString('hex')}`;
    const admin = new Client({ connectionString: server });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    const opened: Database[] = [];
    const open = () => {
      const db = openDatabase(url.toString(), relayConnection);
      opened.push(db);
      return db;
    };
    const db = open();
    await migrate(db, outboxMigrations);
    return {
      db,
      url: url.toString(),
      open,
      dispose: async () => {
        for (const d of opened) await d.close();
        await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
        await admin.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'trapeze-bench-'));
  const url = `sqlite:${join(dir, 'outbox.db')}`;
  const db = openDatabase(url, relayConnection);
  await migrate(db, outboxMigrations);
  return {
    db,
    url,
    open: () => db,
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
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function rawRound(round: string): Promise<number> {
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

/**
 * N events appended while the topic is paused (not timed), then drained by `relays` relays;
 * `around` runs just before the drain and just after it (the raw producer's rounds).
 */
async function relayRound(
  kind: Kind,
  round: string,
  relays = 1,
  orders?: number,
  around: () => Promise<unknown> = async () => undefined,
): Promise<number> {
  const store = await openStore(kind);
  const { db } = store;
  const topic = `bench.relay.${run}.${round}`;
  await createTopic(topic);
  const outbox = openOutboxStore(db);
  const started: Relay[] = Array.from({ length: relays }, () =>
    createRelay({
      store: openOutboxStore(store.open()),
      kafka,
      log: quiet,
      route: () => topic,
      batchSize: BATCH,
      partitions: PARTITIONS,
      pipeline: PIPELINE,
    }),
  );
  const loops = started.map((r) => r.start());
  const published = () => started.reduce((n, r) => n + r.status().published, 0);
  // Warm up like the raw producer: a few events through, so connections exist.
  for (let i = 0; i < relays; i++) await db.transaction((tx) => appendEvent(tx, event(-1 - i)));
  while (published() < relays) await sleep(5);
  const warm = published();
  await outbox.pause('trapeze.orders', 'benchmark: filling the outbox');
  for (let i = 0; i < N; i += 1_000) {
    await db.transaction(async (tx) => {
      for (let j = i; j < Math.min(N, i + 1_000); j++) await appendEvent(tx, event(j, orders));
    });
  }
  if (published() !== warm) throw new Error('the relay published while the outbox was filling');
  await around();
  await outbox.resume('trapeze.orders');
  const began = performance.now();
  for (const r of started) r.wake();
  while (published() < N + warm) await sleep(2);
  const ms = performance.now() - began;
  await around();
  for (const r of started) await r.stop();
  await Promise.all(loops);
  await store.dispose();
  return ms;
}

interface Lag {
  /** Sent, from the append (the row's created_at, as the oldest-unsent-age metric sees it). */
  publication: number[];
  /** Sent, from the commit of the row's transaction: the relay cannot see a row before it. */
  fromCommit: number[];
  endToEnd: number[];
  offered: number;
  seconds: number;
}

async function lagRun(kind: Kind): Promise<Lag> {
  const store = await openStore(kind);
  const { db } = store;
  const topic = `bench.lag.${kind}.${run}`;
  await createTopic(topic);
  const outbox = openOutboxStore(db);
  const relay = createRelay({ store: outbox, kafka, log: quiet, route: () => topic });
  const loop = relay.start();
  const total = RATE * SECONDS;
  // The reader and the writers run in processes of their own, as projections and saga workers do:
  // in this one they would take the event loop from the relay.
  const reader = fork(join(__dirname, 'relay-consumer.ts'), [brokers, topic, `bench-lag-${kind}-${run}`, String(total)], {
    execArgv: ['--import', 'tsx'],
  });
  const read = new Promise<number[]>((resolve, reject) => {
    reader.on('message', (m: { endToEnd?: number[] }) => m.endToEnd && resolve(m.endToEnd));
    reader.once('exit', (code) => reject(new Error(`the reader exited with ${code}`)));
  });
  read.catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    reader.on('message', (m: { joined?: boolean }) => m.joined && resolve());
    reader.once('exit', (code) => reject(new Error(`the reader exited with ${code} before joining its group`)));
  });
  while (!relay.status().running) await sleep(10);

  const appender = fork(
    join(__dirname, 'relay-appender.ts'),
    [store.url, run, String(RATE), String(SECONDS), String(TX_EVENTS)],
    {
      execArgv: ['--import', 'tsx'],
    },
  );
  const { offered, seconds, committed } = await new Promise<{ offered: number; seconds: number; committed: number[] }>(
    (resolve, reject) => {
      appender.once('message', (m) => resolve(m as { offered: number; seconds: number; committed: number[] }));
      appender.once('exit', (code) => reject(new Error(`the appender exited with ${code}`)));
    },
  );
  while (relay.status().published < total) await sleep(20);
  const endToEnd = await read;
  const rows = await db.all<{ sent_at: number; created_at: number; envelope: string }>(
    'SELECT s.sent_at, o.created_at, o.envelope FROM outbox_sent s JOIN outbox o ON o.seq = s.seq',
  );
  await relay.stop();
  await loop;
  await store.dispose();
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
  return {
    publication: sorted(rows.map((r) => Number(r.sent_at) - Number(r.created_at))),
    // The event's index is its amount (bench/relay-events.ts).
    fromCommit: sorted(
      rows.map((r) => Number(r.sent_at) - committed[(JSON.parse(r.envelope) as { data: { amount: number } }).data.amount]!),
    ),
    endToEnd: sorted(endToEnd),
    offered,
    seconds,
  };
}

/** The stack as the tests find it; a line saying what to do instead of a stack trace when it is not there. */
async function findStack(): Promise<Service[]> {
  const services: Service[] = [];
  try {
    services.push(await ensureKafka());
  } catch (err) {
    console.error(
      `no Kafka broker reachable (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): ` +
        'run `npm run stack` (or set KAFKA_BROKERS) and try again',
    );
    process.exit(1);
  }
  brokers = services[0]!.address;
  kafka = new Kafka({ clientId: 'bench-relay', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  if (STORES.includes('postgres')) {
    try {
      const pg = await ensurePostgres();
      services.push(pg);
      postgresServer = pg.address;
    } catch (err) {
      console.log(
        `PostgreSQL not available (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): SQLite only; ` +
          'set POSTGRES_URL or run `npm run stack -- --postgres` for both',
      );
    }
  }
  return services;
}

async function main(): Promise<void> {
  const services = await findStack();
  const kinds = STORES.filter((k) => k === 'sqlite' || postgresServer);
  console.log(
    `relay benchmark: N=${N} events, batch ${BATCH}, acks=all, idempotent, 1 send in flight, ${PARTITIONS} partitions, ` +
      `stores ${kinds.join(' and ')}`,
  );
  // This machine is shared and its load swings within seconds (filling the outbox takes longer
  // than the drain), so the raw producer runs right before and right after each drain, the relay
  // is compared with their mean, and a store's ratio is the median of its rounds' ratios.
  const ratios = new Map<Kind, number[]>(kinds.map((k) => [k, []]));
  const relayed = new Map<Kind, number[]>(kinds.map((k) => [k, []]));
  const raws: number[] = [];
  console.log('| round | store | raw events/s (before / after the drain) | relay events/s | relay/raw |');
  console.log('|---|---|---|---|---|');
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of kinds) {
      const label = `${kind}-${round}`;
      const rawMs: number[] = [];
      const q = await relayRound(kind, label, 1, undefined, async () => rawMs.push(await rawRound(`${label}-${rawMs.length}`)));
      const r = (rawMs[0]! + rawMs[1]!) / 2;
      const ratio = rate(N, q) / rate(N, r);
      raws.push(rate(N, r));
      relayed.get(kind)!.push(rate(N, q));
      ratios.get(kind)!.push(ratio);
      const around = `${rate(N, rawMs[0]!)} / ${rate(N, rawMs[1]!)}`;
      console.log(`| ${round + 1} | ${kind} | ${rate(N, r)} (${around}) | ${rate(N, q)} | ${ratio.toFixed(2)} |`);
    }
  }
  if (kinds.includes('postgres') && SCALING.length > 0) {
    const scaled: string[] = [];
    // Relays share the load only across keys: a key held by one batch waits, so the scaling run
    // spreads N events over N / 2 orders (1,000 orders of 20 events keep at most two batches busy).
    for (const relays of SCALING)
      scaled.push(`${relays}: ${rate(N, await relayRound('postgres', `scale-${relays}`, relays, Math.ceil(N / 2)))}`);
    console.log(`postgresql relays sharing one outbox (${Math.ceil(N / 2)} orders, one process), events/s: ${scaled.join(', ')}`);
  }
  const fmt = (xs: number[]) => `p50 ${percentile(xs, 50)} ms, p99 ${percentile(xs, 99)} ms, max ${xs[xs.length - 1]} ms`;
  for (const kind of kinds) {
    const lag = await lagRun(kind);
    console.log(
      `${kind}: offered ${lag.offered} events/s (${TX_EVENTS} per transaction) for ${lag.seconds.toFixed(1)} s; ` +
        `publication lag ${fmt(lag.publication)}; ` +
        `from commit ${fmt(lag.fromCommit)}; ` +
        `end to end ${fmt(lag.endToEnd)}`,
    );
  }
  for (const kind of kinds)
    console.log(
      `${kind}: relay ${median(relayed.get(kind)!)} events/s, ratio ${median(ratios.get(kind)!).toFixed(2)} (median of ${ROUNDS})`,
    );
  console.log(`raw producer: ${median(raws)} events/s (median of all rounds)`);
  for (const s of services) await s.stop();
  console.log(`relay/raw ratio: ${Math.min(...kinds.map((k) => median(ratios.get(k)!))).toFixed(2)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
