import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Client } from 'pg';
import { ensureKafka } from '../infra/kafka';
import { ensurePostgres } from '../infra/postgres';
import { createRelay } from '../outbox/relay';
import { openOutboxStore } from '../outbox/store';
import { openDatabase } from '../platform/database';
import { migrate, outboxMigrations } from '../platform/migrations';
import { percentile } from './bench-kit';
import { cpuMs, processesMatching } from './proc-usage';

/**
 * `npm run bench:relay-probe -- [--store sqlite|postgres] [--rate 5000] [--seconds 10] [--tx 10] [--batch 500]`:
 * the lag run of bench:relay alone (writers in their own process, no reader), to see where a
 * batch's time goes: claim and mark times, rows per batch, the time between claims, the relay's
 * event loop delay, and the CPU of the relay, the writers, Kafka and PostgreSQL over the run.
 * Run it under `node --cpu-prof` for a profile of the relay.
 */
const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'sqlite' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '10' },
    tx: { type: 'string', default: '10' },
    batch: { type: 'string', default: '500' },
  },
});
const rate = Number(values.rate);
const total = rate * Number(values.seconds);

const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + (cpuMs(pid) || 0), 0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rounded = (xs: number[], p: number) => Math.round(percentile(xs, p));

async function database(run: string): Promise<{ url: string; drop: () => Promise<void> }> {
  if (values.store !== 'postgres') {
    const dir = mkdtempSync(join(tmpdir(), 'trapeze-probe-'));
    return { url: `sqlite:${join(dir, 'outbox.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const server = (await ensurePostgres()).address;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE trapeze_probe_${run}`);
  const url = new URL(server);
  url.pathname = `/trapeze_probe_${run}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE trapeze_probe_${run} WITH (FORCE)`);
      await admin.end();
    },
  };
}

async function main(): Promise<void> {
  const run = randomBytes(4).toString('hex');
  const brokers = (await ensureKafka()).address;
  const { url, drop } = await database(run);
  // Opened as the relay worker opens its own connection.
  const db = openDatabase(url, { commitsWaitForDisk: false });
  await migrate(db, outboxMigrations);
  const kafka = new Kafka({ clientId: 'bench-relay-probe', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const topic = `bench.probe.${run}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 6 }] });
  await admin.disconnect();

  const store = openOutboxStore(db);
  const times: Record<'claim ms' | 'mark ms' | 'rows per batch' | 'ms between claims', number[]> = {
    'claim ms': [],
    'mark ms': [],
    'rows per batch': [],
    'ms between claims': [],
  };
  let lastClaim = 0;
  const claim = store.claim.bind(store);
  store.claim = async (request) => {
    const began = performance.now();
    const claimed = await claim(request);
    times['claim ms'].push(performance.now() - began);
    if (claimed.rows.length > 0) {
      times['rows per batch'].push(claimed.rows.length);
      if (lastClaim) times['ms between claims'].push(began - lastClaim);
      lastClaim = began;
    }
    return claimed;
  };
  const markSent = store.markSent.bind(store);
  store.markSent = async (...args) => {
    const began = performance.now();
    const marked = await markSent(...args);
    times['mark ms'].push(performance.now() - began);
    return marked;
  };
  const relay = createRelay({
    store,
    kafka,
    log: pino({ level: 'silent' }),
    route: () => topic,
    batchSize: Number(values.batch),
  });
  const loop = relay.start();
  while (!relay.status().running) await sleep(10);

  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const kafkaPids = processesMatching((args) => args.includes('kafka.Kafka'));
  const postgresPids = () => processesMatching((args) => /^postgres\b|\/postgres$/.test(args[0] ?? ''));
  const before = { relay: process.cpuUsage(), kafka: cpuOf(kafkaPids), postgres: cpuOf(postgresPids()) };
  const writers = fork(
    join(__dirname, 'relay-appender.ts'),
    [url, run, String(rate), String(values.seconds), String(values.tx)],
    {
      execArgv: ['--import', 'tsx'],
    },
  );
  let writersCpu = 0;
  const sampler = setInterval(() => {
    const ms = cpuMs(writers.pid!);
    if (!Number.isNaN(ms)) writersCpu = ms;
  }, 200);
  const { offered } = await new Promise<{ offered: number }>((resolve) => writers.once('message', resolve));
  clearInterval(sampler);
  while (relay.status().published < total) await sleep(20);
  const relayCpu = process.cpuUsage(before.relay);
  const postgresCpu = values.store === 'postgres' ? cpuOf(postgresPids()) - before.postgres : 0;
  delay.disable();

  const lag = (
    await db.all<{ lag: number }>('SELECT s.sent_at - o.created_at AS lag FROM outbox_sent s JOIN outbox o ON o.seq = s.seq')
  ).map((r) => Number(r.lag));
  console.log(`${values.store}: offered ${offered} events/s, ${values.tx} per transaction, batch ${values.batch}`);
  for (const [name, xs] of Object.entries(times))
    if (xs.length > 0)
      console.log(`${name}: n ${xs.length}, p50 ${rounded(xs, 50)}, p90 ${rounded(xs, 90)}, max ${rounded(xs, 100)}`);
  console.log(
    `event loop delay ms: p50 ${(delay.percentile(50) / 1e6).toFixed(1)}, p99 ${(delay.percentile(99) / 1e6).toFixed(1)}, max ${(delay.max / 1e6).toFixed(1)}`,
  );
  const perThousand = (ms: number) => Math.round((ms * 1000) / total);
  console.log(
    `CPU ms per 1,000 events: relay ${perThousand((relayCpu.user + relayCpu.system) / 1000)}, writers ${perThousand(writersCpu)}, ` +
      `kafka ${perThousand(cpuOf(kafkaPids) - before.kafka)}${values.store === 'postgres' ? `, postgres ${perThousand(postgresCpu)}` : ''}`,
  );
  console.log(`publication lag ms: p50 ${rounded(lag, 50)}, p99 ${rounded(lag, 99)}, max ${rounded(lag, 100)}`);
  await relay.stop();
  await loop;
  await db.close();
  await drop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
