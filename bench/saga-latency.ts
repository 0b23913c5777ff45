// Over 250 lines on purpose: a benchmark script read top to bottom (saga vs bare workflow, same worker, same run).
import { Client, Connection } from '@temporalio/client';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { activitiesOf, createParticipants, participantMigrations } from '../activities';
import { restock } from '../activities/inventory/ledger';
import { createOrderClient } from '../api/client';
import { workflowIdFor } from '../domain/ids';
import { dataConverter } from '../platform/codec/data-converter';
import { describeKeyring } from '../platform/codec/keyring';
import { PayloadEnvironment } from '../platform/codec/settings';
import { openDatabase } from '../platform/database';
import { migrate } from '../platform/migrations';
import { runCommand } from '../infra/command';
import { anOrder, percentile, startWarehouse } from './bench-kit';
import { cpuMeter, temporalServerPid } from './proc-usage';

/**
 * `npm run bench:saga [-- --n 50,200] [--rounds 2] [--warehouse-retry-ms 5] [--sequential RUNS]`:
 * saga throughput on a real Temporal server (TEMPORAL_ADDRESS, default localhost:7233; the dev
 * server of `npm start`), against the limit that server and worker allow. For each N and round,
 * N order sagas start at once and a warehouse confirms each dispatch as soon as the order's
 * OrderConfirmed row is in the outbox; and N bare workflows, each running the same number of no-op
 * activities one after another, on the same worker (one Worker, default settings, both workflow
 * types). Rounds alternate which side runs first, so the shared machine's load swings fall on
 * both. Prints completions per second, p50/p99 start-to-completed and CPU per execution (this
 * process: worker, client, warehouse; the Temporal server, read from /proc when it runs here) for
 * both, where the saga's own time goes (activity time in the ledgers and outbox, payload codec,
 * workflow tasks and history events per execution, the dispatch round trip and its refusals),
 * and last `saga/bare ratio: <median over the rounds at the largest N of saga ÷ bare completions/s>`.
 * `--sequential RUNS` adds the old measurement: one saga at a time, median and p95.
 */
const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '50,200' },
    rounds: { type: 'string', default: '2' },
    sequential: { type: 'string' },
    'warehouse-retry-ms': { type: 'string', default: '5' },
  },
});
const sizes = values.n.split(',').map(Number);
const rounds = Number(values.rounds);
const retryMs = Number(values['warehouse-retry-ms']);
/** The saga's activities on the happy path with fraud screening: submit, screen, authorize, reserve, allocate, confirm, dispatch, capture, complete. */
const SAGA_ACTIVITIES = 9;
/**
 * Search attribute upserts of one saga on that path (counted in its history: see the output): since
 * release 1.7, three of the saga's own (at dispatch, after it, completed) and one the SDK adds for
 * its one patch marker, release-1-7 (TemporalChangeVersion); 9 in 1.6, 17 before.
 */
const SAGA_UPSERTS = 4;

interface Burst {
  n: number;
  perSecond: number;
  p50: number;
  p99: number;
  wallSeconds: number;
  /** CPU per execution, ms: this process (worker, client, warehouse) and the Temporal server. */
  cpu: { here: number; server: number };
  load: { min: number; max: number };
}

/** Starts n executions at once and waits for all; latency is each one's start call to its result. */
async function burst(n: number, runOne: (i: number) => Promise<unknown>, serverPid?: number): Promise<Burst> {
  const meter = cpuMeter({ here: process.pid, server: serverPid });
  const began = performance.now();
  const latencies = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const t0 = performance.now();
      await runOne(i);
      return performance.now() - t0;
    }),
  );
  const wall = (performance.now() - began) / 1000;
  const { used, load } = meter();
  return {
    n,
    perSecond: n / wall,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    wallSeconds: wall,
    cpu: { here: used.here! / n, server: used.server! / n },
    load,
  };
}

/** Time spent inside each activity (the participants' SQL transactions: ledger rows and outbox rows). */
function timed<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T, spent: Map<string, number>): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      async (...args: never[]) => {
        const t0 = performance.now();
        try {
          return await fn(...args);
        } finally {
          spent.set(name, (spent.get(name) ?? 0) + performance.now() - t0);
        }
      },
    ]),
  ) as T;
}

const EventType = temporal.api.enums.v1.EventType;
interface HistoryShape {
  events: number;
  workflowTasks: number;
  activities: number;
  upserts: number;
  bytes: number;
}
async function historyShape(client: Client, workflowIds: string[]): Promise<HistoryShape> {
  const total: HistoryShape = { events: 0, workflowTasks: 0, activities: 0, upserts: 0, bytes: 0 };
  for (const id of workflowIds) {
    const handle = client.workflow.getHandle(id);
    const events = (await handle.fetchHistory()).events ?? [];
    total.events += events.length;
    total.workflowTasks += events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED).length;
    total.activities += events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).length;
    total.upserts += events.filter((e) => e.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES).length;
    total.bytes += (await handle.describe()).historySize ?? 0;
  }
  const n = workflowIds.length;
  return {
    events: total.events / n,
    workflowTasks: total.workflowTasks / n,
    activities: total.activities / n,
    upserts: total.upserts / n,
    bytes: total.bytes / n,
  };
}

/** The project's data converter with its payload codecs timed (encode and decode, every payload). */
function timedCodec(converter: DataConverter) {
  let ms = 0;
  const time =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const t0 = performance.now();
      try {
        return await fn(...a);
      } finally {
        ms += performance.now() - t0;
      }
    };
  const payloadCodecs: PayloadCodec[] = (converter.payloadCodecs ?? []).map((c) => ({
    encode: time((p: Payload[]) => c.encode(p)),
    decode: time((p: Payload[]) => c.decode(p)),
  }));
  return { converter: { ...converter, payloadCodecs }, ms: () => ms };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const dir = mkdtempSync(join(tmpdir(), 'trapeze-bench-'));
  const db = openDatabase(`sqlite:${join(dir, 'bench.db')}`);
  await migrate(db, participantMigrations);
  await db.transaction((tx) => restock(tx, { beans: 1_000_000_000 }));
  const native = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const taskQueue = `bench-${Date.now().toString(36)}`;
  const keyring = PayloadEnvironment.parse(process.env).PAYLOAD_KEYS;
  const spent = new Map<string, number>();
  const codec = timedCodec(dataConverter(keyring));
  const serverPid = /^(localhost|127\.0\.0\.1):/.test(address) ? temporalServerPid(Number(address.split(':')[1])) : undefined;
  const worker = await Worker.create({
    connection: native,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: require.resolve('./bare-workflow'),
      logger: {
        trace: () => undefined,
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: console.error,
        log: () => undefined,
      },
    }),
    activities: timed({ ...activitiesOf(createParticipants(db)), noop: async (step: number) => step }, spent),
    dataConverter: codec.converter,
  });
  const client = new Client({ connection, dataConverter: codec.converter });
  const orders = createOrderClient(client, { taskQueue });
  const roundTrips: number[] = [];
  const refusals = { count: 0 };
  const stopWarehouse = startWarehouse(db, orders, { roundTrips, refusals, retryMs });
  const rows: Array<{ kind: 'saga' | 'bare' | 'bare+upserts'; round: number; b: Burst }> = [];
  /** Payload codec time of the saga bursts (both sides of the wire: this process is client and worker). */
  let sagaCodecMs = 0;
  let sampleSagas: string[] = [];
  let sampleBares: string[] = [];
  /** Activity time of the measured sagas only, by activity. */
  const measured = new Map<string, number>();
  let sagasMeasured = 0;

  const saga = (label: string) => async (i: number) => {
    const orderId = `${taskQueue}-${label}-${i}`;
    await orders.startOrder(anOrder(orderId));
    const result = await orders.orderOutcome(orderId);
    if (result.status !== 'COMPLETED') throw new Error(`saga ${orderId} ended ${result.status}`);
  };
  const bare = (label: string) => async (i: number) => {
    const handle = await client.workflow.start('bareWorkflow', {
      taskQueue,
      workflowId: `${taskQueue}-bare-${label}-${i}`,
      args: [SAGA_ACTIVITIES],
    });
    await handle.result();
  };
  const bareWithUpserts = (label: string) => async (i: number) => {
    const handle = await client.workflow.start('bareWorkflowWithUpserts', {
      taskQueue,
      workflowId: `${taskQueue}-upserts-${label}-${i}`,
      args: [SAGA_ACTIVITIES, SAGA_UPSERTS],
    });
    await handle.result();
  };

  await worker.runUntil(async () => {
    // Warm-up: bundles loaded, statements prepared, connections open, JIT warm.
    await burst(10, bare('warmup'));
    await burst(10, saga('warmup'));
    refusals.count = 0;
    // Rounds alternate which runs first, so a load change on the shared machine falls on both sides;
    // the ratio is taken per round (bare and saga minutes apart), then the median of the rounds.
    for (const n of sizes) {
      for (let round = 1; round <= rounds; round++) {
        const label = `n${n}r${round}`;
        const runBare = async () => rows.push({ kind: 'bare', round, b: await burst(n, bare(label), serverPid) });
        const runSaga = async () => {
          spent.clear();
          const codecBefore = codec.ms();
          rows.push({ kind: 'saga', round, b: await burst(n, saga(label), serverPid) });
          sagaCodecMs += codec.ms() - codecBefore;
          for (const [name, ms] of spent) if (name !== 'noop') measured.set(name, (measured.get(name) ?? 0) + ms);
          sagasMeasured += n;
        };
        if (round % 2 === 1) {
          await runBare();
          await runSaga();
        } else {
          await runSaga();
          await runBare();
        }
      }
      // Once, at the smallest N: the bare workflow with the saga's search attribute upserts added.
      if (n === sizes[0]) rows.push({ kind: 'bare+upserts', round: 1, b: await burst(n, bareWithUpserts(`n${n}`), serverPid) });
    }
    const last = sizes.at(-1) ?? 0;
    sampleSagas = Array.from({ length: Math.min(20, last) }, (_, i) => workflowIdFor(`${taskQueue}-n${last}r1-${i}`));
    sampleBares = Array.from({ length: Math.min(20, last) }, (_, i) => `${taskQueue}-bare-n${last}r1-${i}`);

    if (values.sequential) {
      const runs = Number(values.sequential);
      const total: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await saga('seq')(i);
        total.push(performance.now() - t0);
      }
      console.log(
        `one saga at a time, ${runs} runs: median ${percentile(total, 50).toFixed(1)} ms, p95 ${percentile(total, 95).toFixed(1)} ms`,
      );
    }
  });
  await stopWarehouse();
  const sagaHistory = await historyShape(client, sampleSagas);
  const bareHistory = await historyShape(client, sampleBares);

  console.log(
    `saga throughput on ${address}: one worker (default settings) runs both the order saga and a bare workflow of ${SAGA_ACTIVITIES} no-op activities; SQLite ledgers; ${describeKeyring(keyring)}`,
  );
  console.log(
    'N      round  workflow       completions/s   p50 start→completed   p99 start→completed     wall   CPU/execution: this process, server   load avg   saga/bare',
  );
  const ratioOf = (n: number, round: number) => {
    const rate = (kind: string) => rows.find((r) => r.kind === kind && r.b.n === n && r.round === round)?.b.perSecond ?? NaN;
    return rate('saga') / rate('bare');
  };
  for (const { kind, round, b } of rows) {
    console.log(
      `${String(b.n).padEnd(6)} ${String(round).padEnd(6)} ${kind.padEnd(14)} ${b.perSecond.toFixed(1).padStart(13)}   ${b.p50.toFixed(0).padStart(16)} ms   ${b.p99.toFixed(0).padStart(16)} ms` +
        `   ${b.wallSeconds.toFixed(1).padStart(6)} s   ${b.cpu.here.toFixed(1).padStart(14)} ms, ${b.cpu.server.toFixed(1).padStart(6)} ms` +
        `        ${b.load.min.toFixed(1)}–${b.load.max.toFixed(1)}` +
        (kind === 'saga' ? `   ${ratioOf(b.n, round).toFixed(2)}` : ''),
    );
  }
  const sagaActivityMs = [...measured.values()].reduce((a, b) => a + b, 0);
  const perActivity = [...measured]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([k, ms]) => `${k} ${(ms / sagasMeasured).toFixed(1)}`)
    .join(', ');
  console.log(`where the saga's own time goes (per execution; history from ${sampleSagas.length} of each at N=${sizes.at(-1)}):`);
  console.log(
    `  activities in the ledgers and outbox (SQLite transactions, serialised on one connection): ${(sagaActivityMs / sagasMeasured).toFixed(1)} ms of activity time per saga (most: ${perActivity} ms)`,
  );
  console.log(
    `  history: saga ${sagaHistory.events.toFixed(0)} events, ${sagaHistory.workflowTasks.toFixed(1)} workflow tasks, ${sagaHistory.activities.toFixed(0)} activities, ${sagaHistory.upserts.toFixed(1)} search attribute upserts, ${(sagaHistory.bytes / 1024).toFixed(1)} KiB` +
      ` vs bare ${bareHistory.events.toFixed(0)} events, ${bareHistory.workflowTasks.toFixed(1)} workflow tasks, ${bareHistory.activities.toFixed(0)} activities, ${(bareHistory.bytes / 1024).toFixed(1)} KiB`,
  );
  console.log(
    `  the warehouse's dispatch update (a workflow task of its own while the saga waits): p50 ${percentile(roundTrips, 50).toFixed(0)} ms, p99 ${percentile(roundTrips, 99).toFixed(0)} ms per saga;` +
      ` ${(refusals.count / sagasMeasured).toFixed(2)} refusals per saga (confirmed before the saga waited; retried after ${retryMs} ms)`,
  );
  console.log(
    `  payload codec (${describeKeyring(keyring).split(':')[0]}): ${(sagaCodecMs / sagasMeasured).toFixed(2)} ms per saga, client and worker sides together`,
  );
  const largest = sizes.at(-1) ?? 0;
  const ratios = Array.from({ length: rounds }, (_, i) => ratioOf(largest, i + 1));
  await connection.close();
  await native.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(`rounds at N=${largest}: ${ratios.map((r) => r.toFixed(2)).join(', ')} (median below)`);
  console.log(`saga/bare ratio: ${percentile(ratios, 50).toFixed(2)}`);
}

runCommand('bench:saga', main);
