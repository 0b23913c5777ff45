import { once } from 'node:events';
import type { CaseResult, FaultCase } from '../case';
import { judge } from '../judge';
import { ownTemporal } from '../servers';
import { waitUntil } from '../../wait';
import { burstOrders, openWorld, startWarehouse, type World } from '../world';
import { outboxRows, sagaWorker } from './worker-sigkill';

/**
 * Case 2: the Temporal dev server stops mid-burst and restarts on its persisted database, first
 * with SIGTERM (a clean shutdown), then with SIGKILL (no shutdown at all: whatever the SQLite file
 * holds is what survives; --short does only this one). The server is the case's own, on its own
 * ports and file; the shared one is never touched. The saga worker (its own process) and the warehouse keep running through the
 * outage, so activities complete against a server that is gone and polls fail until it is back.
 */
export const temporalRestart: FaultCase = {
  name: 'Temporal server restart (TERM, KILL)',
  async open(label) {
    const server = await ownTemporal(label);
    try {
      return await openWorld(label, { temporal: server });
    } catch (err) {
      await server.remove();
      throw err;
    }
  },
  async run(world: World, { sagas, short }): Promise<CaseResult> {
    const server = world.own.temporal;
    if (!server) throw new Error('temporal-restart runs only on its own server');
    const burst = burstOrders(world, sagas);
    const expected = new Map(burst.map((b) => [b.order.orderId, [b.expected] as const]));
    const worker = sagaWorker(world);
    const stopWarehouse = startWarehouse(world, () => Math.random() * 1_500);
    await Promise.all(burst.map((b) => world.orders.startOrder(b.order)));
    let injected = 0;
    let lastFault = Date.now();
    try {
      // --short: only the harsher stop.
      for (const signal of short ? (['SIGKILL'] as const) : (['SIGTERM', 'SIGKILL'] as const)) {
        const before = await outboxRows(world);
        await waitUntil(async () => (await outboxRows(world)) > before, {
          timeoutMs: 120_000,
          what: 'the burst to make progress before the next stop',
        });
        // The fault itself: the stop lands at a random moment of the work in flight.
        await new Promise((r) => setTimeout(r, Math.random() * 700));
        await server.stop(signal);
        injected += 1;
        // Down long enough for activity completions and the warehouse's updates to fail.
        await new Promise((r) => setTimeout(r, short ? 2_000 : 5_000));
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
  },
};
