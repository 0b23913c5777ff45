import { once } from 'node:events';
import type { CaseResult } from '../case';
import { judge } from '../judge';
import type { OwnServer } from '../servers';
import { waitUntil } from '../../wait';
import { burstOrders, startWarehouse, type World } from '../world';
import { outboxRows, sagaWorker } from './worker-sigkill';

/**
 * The burst of cases 2 and 6: the saga worker (its own process) and the warehouse keep running
 * while the case's own server is stopped with each signal in turn (only the last, the harshest,
 * with --short), kept down for `downMs`, and started again on its data.
 */
export async function restartUnderBurst(
  world: World,
  server: OwnServer,
  { sagas, short, signals, downMs }: { sagas: number; short: boolean; signals: NodeJS.Signals[]; downMs: number },
): Promise<CaseResult> {
  const burst = burstOrders(world, sagas);
  const expected = new Map(burst.map((b) => [b.order.orderId, [b.expected] as const]));
  const worker = sagaWorker(world);
  const stopWarehouse = startWarehouse(world, () => Math.random() * 1_500);
  await Promise.all(burst.map((b) => world.orders.startOrder(b.order)));
  let injected = 0;
  let lastFault = Date.now();
  try {
    for (const signal of short ? signals.slice(-1) : signals) {
      const before = await outboxRows(world);
      await waitUntil(async () => (await outboxRows(world)) > before, {
        timeoutMs: 120_000,
        what: 'the burst to make progress before the next stop',
      });
      // The fault itself: the stop lands at a random moment of the work in flight.
      await new Promise((r) => setTimeout(r, Math.random() * 700));
      await server.stop(signal);
      injected += 1;
      // The outage itself: down long enough for the work in flight to fail on it, not only to reconnect.
      await new Promise((r) => setTimeout(r, downMs));
      await server.start();
      lastFault = Date.now();
    }
    const verdict = await judge(world, expected, short ? 150_000 : 240_000);
    return { sagas, injected, verdict, recoverMs: Math.max(0, verdict.settledAt - lastFault) };
  } finally {
    await stopWarehouse();
    worker.kill('SIGTERM');
    if (worker.exitCode === null) await once(worker, 'exit');
  }
}
