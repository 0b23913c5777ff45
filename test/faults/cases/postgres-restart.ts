import { once } from 'node:events';
import type { CaseResult, FaultCase } from '../case';
import { judge } from '../judge';
import { ownPostgres } from '../servers';
import { waitUntil } from '../../wait';
import { burstOrders, openWorld, startWarehouse, type World } from '../world';
import { outboxRows, sagaWorker } from './worker-sigkill';

/**
 * Case 6: the participants' PostgreSQL store restarts mid-burst, first as `pg_ctl restart -m fast`
 * does (SIGINT: sessions are cut, transactions in flight roll back), then as `-m immediate` does
 * (SIGQUIT: no checkpoint, crash recovery on start; --short does only this one). The cluster is
 * the case's own (initdb in a temp directory, its own port); the shared one is never touched.
 * Activities whose transaction was cut fail and are retried against the participants' idempotency
 * keys; the pool replaces the dead connections (before the fix in platform/database.ts, a
 * connection cut mid-transaction crashed the saga worker). The relay is not running in this world
 * yet: its outbox rows are judged in place.
 */
export const postgresRestart: FaultCase = {
  name: 'PostgreSQL restart (fast, immediate)',
  async open(label) {
    const postgres = await ownPostgres(label);
    try {
      return await openWorld(label, { postgres });
    } catch (err) {
      await postgres.remove();
      throw err;
    }
  },
  async run(world: World, { sagas, short }): Promise<CaseResult> {
    const server = world.own.postgres;
    if (!server) throw new Error('postgres-restart runs only on its own cluster');
    const burst = burstOrders(world, sagas);
    const expected = new Map(burst.map((b) => [b.order.orderId, [b.expected] as const]));
    const worker = sagaWorker(world);
    const stopWarehouse = startWarehouse(world, () => Math.random() * 1_500);
    await Promise.all(burst.map((b) => world.orders.startOrder(b.order)));
    let injected = 0;
    let lastFault = Date.now();
    try {
      // --short: only the harsher stop.
      for (const signal of short ? (['SIGQUIT'] as const) : (['SIGINT', 'SIGQUIT'] as const)) {
        const before = await outboxRows(world);
        await waitUntil(async () => (await outboxRows(world)) > before, {
          timeoutMs: 120_000,
          what: 'the burst to make progress before the next restart',
        });
        // The fault itself: the restart lands at a random moment of the work in flight.
        await new Promise((r) => setTimeout(r, Math.random() * 700));
        await server.stop(signal);
        injected += 1;
        // Down long enough for activities to fail on it, not only to reconnect.
        await new Promise((r) => setTimeout(r, short ? 1_000 : 3_000));
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
