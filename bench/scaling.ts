import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createOrderClient } from '../api/client';
import { dataConverter } from '../platform/codec/data-converter';
import { PayloadEnvironment } from '../platform/codec/settings';
import { anOrder, percentile, startWarehouse } from './bench-kit';
import { cpuMeter, temporalServerPid } from './proc-usage';
import { prepareGround, startChildWorker, type ChildWorker } from './worker-fleet';

/**
 * `npm run bench:scaling [-- --n 100] [--configs 1:default,1:2/2,1:20/20,2:default]`: saga
 * throughput as saga workers and pollers change. Each configuration is `<workers>:<workflow
 * pollers>/<activity pollers>` (or `default`, the SDK's); its workers are child processes on a
 * task queue of their own, sharing one SQLite ledger file (BEGIN IMMEDIATE serialises their
 * writers across processes), and N sagas start at once as in bench:saga. Prints completions/s,
 * p50/p99, and where the CPU went per saga (each worker, the Temporal server, this process:
 * client and warehouse) with the machine's busy share over the run, and each configuration's
 * throughput beside the first one's (`vs first`). TEMPORAL_ADDRESS (default localhost:7233).
 */
const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '100' },
    configs: { type: 'string', default: '1:default,1:2/2,1:20/20,2:default' },
  },
});
const n = Number(values.n);

interface Config {
  label: string;
  workers: number;
  workflowPollers?: number;
  activityPollers?: number;
}
const configs: Config[] = values.configs.split(',').map((text) => {
  const [workers, pollers] = text.split(':');
  if (!pollers || pollers === 'default') return { label: text, workers: Number(workers) };
  const [workflowPollers, activityPollers] = pollers.split('/').map(Number);
  return { label: text, workers: Number(workers), workflowPollers, activityPollers };
});

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = cpu[3]! + (cpu[4] ?? 0);
  return { busy: total - idle, total };
}

interface Result {
  config: Config;
  perSecond: number;
  p50: number;
  p99: number;
  cpu: Record<string, number>;
  machineBusy: number;
  load: string;
}

async function measure(client: Client, address: string, config: Config, serverPid: number | undefined): Promise<Result> {
  const taskQueue = `bench-scaling-${Date.now().toString(36)}`;
  const ground = await prepareGround();
  const workers: ChildWorker[] = [];
  try {
    for (let i = 0; i < config.workers; i++) {
      workers.push(
        await startChildWorker({
          address,
          namespace: 'default',
          taskQueue,
          databaseUrl: ground.databaseUrl,
          bundlePath: ground.bundlePath,
          ...(config.workflowPollers ? { workflowPollers: config.workflowPollers } : {}),
          ...(config.activityPollers ? { activityPollers: config.activityPollers } : {}),
        }),
      );
    }
    const orders = createOrderClient(client, { taskQueue });
    const stopWarehouse = startWarehouse(ground.db, orders, { roundTrips: [], refusals: { count: 0 }, retryMs: 5 });
    const pids: Record<string, number | undefined> = { server: serverPid, bench: process.pid };
    workers.forEach((w, i) => (pids[`worker ${i + 1}`] = w.pid));
    const meter = cpuMeter(pids);
    const ticks0 = machineTicks();
    const began = performance.now();
    const latencies = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const orderId = `${taskQueue}-${i}`;
        const t0 = performance.now();
        await orders.startOrder(anOrder(orderId));
        const result = await orders.orderOutcome(orderId);
        if (result.status !== 'COMPLETED') throw new Error(`saga ${orderId} ended ${result.status}`);
        return performance.now() - t0;
      }),
    );
    const wall = (performance.now() - began) / 1000;
    const ticks1 = machineTicks();
    const { used, load } = meter();
    await stopWarehouse();
    return {
      config,
      perSecond: n / wall,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      cpu: Object.fromEntries(Object.entries(used).map(([k, ms]) => [k, ms / n])),
      machineBusy: (ticks1.busy - ticks0.busy) / (ticks1.total - ticks0.total),
      load: `${load.min.toFixed(1)}–${load.max.toFixed(1)}`,
    };
  } finally {
    for (const w of workers) await w.stop();
    await ground.dispose();
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const serverPid = /^(localhost|127\.0\.0\.1):/.test(address) ? temporalServerPid(Number(address.split(':')[1])) : undefined;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, dataConverter: dataConverter(PayloadEnvironment.parse(process.env).PAYLOAD_KEYS) });
  const results: Result[] = [];
  for (const config of configs) {
    console.error(`${config.label}: ${n} sagas`);
    results.push(await measure(client, address, config, serverPid));
  }
  await connection.close();

  console.log(
    `saga scaling on ${address}: ${n} sagas at once per configuration (workers:workflow/activity pollers); SQLite ledger shared by the workers`,
  );
  console.log(
    'config        completions/s   vs first   p50 start→completed   p99   CPU per saga (ms): server, workers, bench   machine busy   load avg',
  );
  const first = results[0]!.perSecond;
  for (const r of results) {
    const workerCpu = Object.entries(r.cpu)
      .filter(([k]) => k.startsWith('worker'))
      .map(([, ms]) => ms.toFixed(0))
      .join(' + ');
    console.log(
      `${r.config.label.padEnd(13)} ${r.perSecond.toFixed(2).padStart(13)}   ${(r.perSecond / first).toFixed(2).padStart(8)}   ${r.p50.toFixed(0).padStart(16)} ms   ${r.p99.toFixed(0)} ms` +
        `   ${(r.cpu.server ?? NaN).toFixed(0)}, ${workerCpu}, ${(r.cpu.bench ?? NaN).toFixed(0)}` +
        `   ${(r.machineBusy * 100).toFixed(0)} %   ${r.load}`,
    );
  }
  const two = results.find((r) => r.config.workers === 2);
  const one = results.find((r) => r.config.workers === 1 && r.config.workflowPollers === undefined);
  if (one && two) console.log(`2 workers/1 worker ratio: ${(two.perSecond / one.perSecond).toFixed(2)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
