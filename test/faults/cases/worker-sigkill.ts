import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { repoRoot } from '../../../infra/paths';
import { temporalNamespace } from '../../env';
import { waitUntil } from '../../wait';
import { judge } from '../judge';
import type { CaseResult, FaultCase } from '../case';
import { burstOrders, startWarehouse, type World } from '../world';

/**
 * Case 1: the saga worker is killed with SIGKILL mid-burst, several times; each time a fresh worker
 * process takes over. A kill lands only after the current worker has moved the burst on (new
 * outbox rows since it started), so it hits work in flight: activities whose reply is lost time
 * out and retry against the participants' idempotency keys.
 */
/** The saga worker as its own process, on the world's Temporal server and store. */
export function sagaWorker(world: World): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'workers/saga-worker.ts'], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      TEMPORAL_ADDRESS: world.temporalAddress,
      TEMPORAL_NAMESPACE: temporalNamespace(),
      DATABASE_URL: world.store.url,
      SAGA_TASK_QUEUE: world.taskQueue,
      SAGA_HTTP_PORT: '0',
      LOG_LEVEL: 'error',
    },
  });
}

export const outboxRows = async (world: World) =>
  Number((await world.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox'))?.n ?? 0);

export const workerSigkill: FaultCase = {
  name: 'saga worker SIGKILL mid-activity',
  async run(world, { sagas, short }): Promise<CaseResult> {
    const kills = short ? 2 : 3;
    const burst = burstOrders(world, sagas);
    const expected = new Map(burst.map((b) => [b.order.orderId, [b.expected] as const]));
    let worker = sagaWorker(world);
    const stopWarehouse = startWarehouse(world, () => Math.random() * 500);
    await Promise.all(burst.map((b) => world.orders.startOrder(b.order)));
    let injected = 0;
    let lastFault = Date.now();
    try {
      for (let k = 0; k < kills; k++) {
        const before = await outboxRows(world);
        await waitUntil(async () => (await outboxRows(world)) > before, {
          timeoutMs: 60_000,
          what: 'the burst to make progress before the next kill',
        });
        // The fault itself: the kill lands at a random moment of the work in flight, not at a step boundary.
        await new Promise((r) => setTimeout(r, Math.random() * 700));
        worker.kill('SIGKILL');
        await once(worker, 'exit');
        injected += 1;
        lastFault = Date.now();
        worker = sagaWorker(world);
      }
      const verdict = await judge(world, expected, short ? 120_000 : 180_000);
      return { sagas, injected, verdict, recoverMs: Math.max(0, verdict.settledAt - lastFault) };
    } finally {
      await stopWarehouse();
      worker.kill('SIGTERM');
      if (worker.exitCode === null) await once(worker, 'exit');
    }
  },
};
