import { Client, Connection, ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createOrderClient } from '../api/client';
import { workflowIdFor } from '../domain/ids';
import { dataConverter } from '../platform/codec/data-converter';
import { PayloadEnvironment } from '../platform/codec/settings';
import type { Database } from '../platform/database';
import { anOrder, percentile, pool } from './bench-kit';
import { mib, rssBytes } from './proc-usage';
import { prepareGround, startChildWorker } from './worker-fleet';

/**
 * `npm run bench:waiting [-- --n 1000,10000] [--cache 100] [--samples 200]`: many sagas waiting
 * at dispatch on ONE saga worker (a child process, so its RSS is its own) whose workflow cache
 * (maxCachedWorkflows) is smaller than the waiting set. For each N: start N sagas on a task queue
 * of this run, wait until all N wait for the warehouse, then confirm the dispatch of randomly
 * chosen waiting sagas one at a time and time each from the confirmation to the saga's
 * completion: most are not in the cache, so the worker fetches and replays their history first.
 * Prints the worker's RSS and p50/p99 beside their targets (RSS < 1 GiB, p99 < 1 s) and
 * terminates what is left waiting. TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE.
 */
const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    cache: { type: 'string', default: '100' },
    samples: { type: 'string', default: '200' },
    'in-flight': { type: 'string' },
    'max-minutes': { type: 'string' },
    /** For a throwaway server of one's own: leave the rest waiting instead of terminating them one by one. */
    'leave-waiting': { type: 'boolean', default: false },
  },
});
const sizes = values.n.split(',').map(Number);
const cache = Number(values.cache);
const sampleCount = Number(values.samples);
/**
 * Sagas on their way to the wait at once. More than the cache holds and every workflow task of
 * theirs evicts another saga, whose next task replays its whole history: the worker thrashes
 * (workflow tasks over 5 s) and reaching 10,000 takes hours. Default: half the cache.
 */
const inFlight = Number(values['in-flight'] ?? Math.max(1, Math.floor(cache / 2)));
/** On a loaded machine 10,000 may not be reachable in time: after this many minutes no new saga starts, and the run measures those already waiting. */
const startBudgetMs = values['max-minutes'] ? Number(values['max-minutes']) * 60_000 : Infinity;
const RSS_TARGET = 2 ** 30;
const P99_TARGET_MS = 1_000;

interface Outcome {
  n: number;
  asked: number;
  startSeconds: number;
  rssIdle: number;
  rssWaiting: number;
  rssPeak: number;
  latencies: number[];
  refusals: number;
  load: string;
}

/** Resolves when an order's OrderConfirmed row is in the outbox (the saga is one workflow task from its wait). */
function watchConfirmations(db: Database) {
  const waiters = new Map<string, () => void>();
  const seen = new Set<string>();
  let lastSeq = 0;
  const timer = setInterval(() => {
    void db
      .all<{ seq: number; msg_key: string }>(
        "SELECT seq, msg_key FROM outbox WHERE type = 'OrderConfirmed' AND seq > ? ORDER BY seq",
        [lastSeq],
      )
      .then((rows) => {
        for (const r of rows) {
          lastSeq = Math.max(lastSeq, Number(r.seq));
          seen.add(r.msg_key);
          waiters.get(r.msg_key)?.();
        }
      });
  }, 50);
  return {
    of: (orderId: string) =>
      seen.has(orderId) ? Promise.resolve() : new Promise<void>((resolve) => waiters.set(orderId, resolve)),
    stop: () => clearInterval(timer),
  };
}

async function run(client: Client, address: string, namespace: string, n: number): Promise<Outcome> {
  const taskQueue = `bench-waiting-${n}-${Date.now().toString(36)}`;
  const ground = await prepareGround();
  const worker = await startChildWorker({
    address,
    namespace,
    taskQueue,
    databaseUrl: ground.databaseUrl,
    bundlePath: ground.bundlePath,
    maxCachedWorkflows: cache,
  });
  const orders = createOrderClient(client, { taskQueue });
  const orderIds = Array.from({ length: n }, (_, i) => `${taskQueue}-${i}`);
  const loads: number[] = [loadavg()[0]!];
  let rssPeak = 0;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssBytes(worker.pid) || 0);
    loads.push(loadavg()[0]!);
  }, 500);
  try {
    const rssIdle = rssBytes(worker.pid);
    const began = performance.now();
    const confirmed = watchConfirmations(ground.db);
    let reached = 0;
    const startedIds: string[] = [];
    await pool(orderIds, inFlight, async (orderId) => {
      if (performance.now() - began > startBudgetMs) return;
      startedIds.push(orderId);
      await orders.startOrder(anOrder(orderId));
      await confirmed.of(orderId);
      if (++reached % Math.min(250, Math.max(1, Math.floor(n / 10))) === 0) {
        console.error(
          `  ${reached}/${n} confirmed, ${((performance.now() - began) / 1000).toFixed(0)} s, worker RSS ${mib(rssBytes(worker.pid))}`,
        );
      }
    });
    confirmed.stop();
    if (startedIds.length < n) console.error(`  start budget spent: ${startedIds.length} of ${n} sagas started`);
    const total = startedIds.length;
    // Waiting means the saga said so in visibility: a dispatch sent before that is refused.
    const waitingQuery = `TaskQueue = '${taskQueue}' AND SagaStatus = 'AWAITING_DISPATCH'`;
    let waiting = 0;
    for (let last = -1; waiting < n;) {
      waiting = (await client.workflow.count(waitingQuery)).count;
      if (waiting !== last) console.error(`  ${waiting}/${total} waiting at dispatch`);
      last = waiting;
      if (performance.now() - began > total * 2_000 + 120_000)
        throw new Error(`only ${waiting} of ${total} sagas reached the dispatch wait`);
      if (waiting < total) await new Promise((r) => setTimeout(r, 1_000));
    }
    const startSeconds = (performance.now() - began) / 1000;
    const rssWaiting = rssBytes(worker.pid);

    // Random waiting sagas, one at a time: the time is the dispatch round trip plus the rest of the saga.
    const shuffled = [...startedIds].sort(() => Math.random() - 0.5).slice(0, Math.min(sampleCount, total));
    const latencies: number[] = [];
    let refusals = 0;
    for (const orderId of shuffled) {
      const t0 = performance.now();
      for (;;) {
        const answer = await orders.confirmDispatch(orderId, { trackingNumber: `T-${orderId}` }).catch((err: unknown) => {
          // Under a saturated machine the update's RPC may time out; the warehouse asks again (and the clock runs on).
          if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || err instanceof ServiceError)
            return { accepted: false as const };
          throw err;
        });
        if (answer.accepted) break;
        refusals++;
        await new Promise((r) => setTimeout(r, 50));
      }
      const result = await orders.orderOutcome(orderId);
      if (result.status !== 'COMPLETED') throw new Error(`saga ${orderId} ended ${result.status}`);
      latencies.push(performance.now() - t0);
    }
    rssPeak = Math.max(rssPeak, rssBytes(worker.pid));
    const load = `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`;

    // What is still waiting goes: a terminate each (the rest of their sagas would be minutes of load).
    const sampled = new Set(shuffled);
    const rest = startedIds.filter((id) => !sampled.has(id));
    await pool(values['leave-waiting'] ? [] : rest, 20, (orderId) =>
      client.workflow
        .getHandle(workflowIdFor(orderId))
        .terminate('bench:waiting is done with it')
        .catch(() => undefined),
    );
    console.error(values['leave-waiting'] ? `  left ${rest.length} sagas waiting` : `  terminated ${rest.length} waiting sagas`);
    return { n: total, asked: n, startSeconds, rssIdle, rssWaiting, rssPeak, latencies, refusals, load };
  } finally {
    clearInterval(sampler);
    await worker.stop();
    await ground.dispose();
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const connection = await Connection.connect({ address });
  const client = new Client({
    connection,
    namespace,
    dataConverter: dataConverter(PayloadEnvironment.parse(process.env).PAYLOAD_KEYS),
  });
  const outcomes: Outcome[] = [];
  for (const n of sizes) {
    console.error(`${n} waiting sagas, worker cache ${cache}:`);
    outcomes.push(await run(client, address, namespace, n));
  }
  await connection.close();

  console.log(
    `many waiting sagas on ${address}: one saga worker (child process), maxCachedWorkflows ${cache}, at most ${inFlight} sagas on their way to the wait at once; SQLite ledgers`,
  );
  console.log(
    'waiting  to reach wait   RSS idle   RSS waiting   RSS peak (vs 1 GiB)    samples   p50 confirm→completed   p99 (vs 1 s)     load avg',
  );
  for (const o of outcomes) {
    const p50 = percentile(o.latencies, 50);
    const p99 = percentile(o.latencies, 99);
    console.log(
      `${(o.n === o.asked ? String(o.n) : `${o.n} of ${o.asked}`).padEnd(8)} ${o.startSeconds.toFixed(0).padStart(10)} s   ${mib(o.rssIdle).padStart(8)}   ${mib(o.rssWaiting).padStart(11)}   ${mib(o.rssPeak).padStart(8)} (${(o.rssPeak / RSS_TARGET).toFixed(2)})   ` +
        `${String(o.latencies.length).padStart(7)}   ${p50.toFixed(0).padStart(18)} ms   ${p99.toFixed(0).padStart(6)} ms (${(p99 / P99_TARGET_MS).toFixed(2)})   ${o.load}` +
        (o.refusals ? `   (${o.refusals} early confirmations refused)` : ''),
    );
  }
  const last = outcomes.at(-1)!;
  console.log(
    `waiting sagas: ${last.n}, cache ${cache}, worker RSS peak ${mib(last.rssPeak)}, p50 ${percentile(last.latencies, 50).toFixed(0)} ms, p99 ${percentile(last.latencies, 99).toFixed(0)} ms`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
