import { NativeConnection } from '@temporalio/worker';
import { workflowIdFor } from '../../../domain/ids';
import { createSagaWorker } from '../../../workers/saga-worker';
import { temporalAddress, temporalNamespace } from '../../env';
import { bundle } from '../../integration/workflows/harness';
import type { CaseResult, FaultCase } from '../case';
import { waitUntil } from '../../wait';
import { judge } from '../judge';
import { burstOrders, startWarehouse } from '../world';

/**
 * Case 10: customers cancel (the `cancel` update) and operators compensate (workflow cancellation)
 * at random moments of the burst while the warehouse dispatches at random moments too. What each
 * saga may end as follows from the answer it gave: an accepted customer cancellation ends
 * CANCELLED (REJECTED if a refusal came first); an operator's cancellation ends CANCELLED before
 * dispatch and COMPLETED after it (the parcel has left: the forward steps must finish). Some
 * operator cancellations are aimed at the moment right after the dispatch was recorded.
 */
export const cancellations: FaultCase = {
  name: 'customer and operator cancellations',
  async run(world, { sagas }): Promise<CaseResult> {
    const connection = await NativeConnection.connect({ address: temporalAddress() });
    const worker = await createSagaWorker({
      namespace: temporalNamespace(),
      connection,
      db: world.db,
      taskQueue: world.taskQueue,
      workflowBundle: await bundle(),
    });
    const running = worker.run();
    const stopWarehouse = startWarehouse(world, () => Math.random() * 3_000);
    const burst = burstOrders(world, sagas);
    const expected = new Map<string, readonly string[]>();
    let injected = 0;
    let lastFault = Date.now();
    try {
      await Promise.all(
        burst.map(async (b, i) => {
          const { orderId } = b.order;
          await world.orders.startOrder(b.order);
          const kind = i % 3 === 1 ? 'customer' : i % 6 === 2 ? 'operator' : i % 6 === 0 ? 'after-dispatch' : undefined;
          if (!kind || (kind === 'after-dispatch' && b.expected !== 'COMPLETED')) {
            expected.set(orderId, [b.expected]);
            return;
          }
          if (kind === 'after-dispatch') {
            // The moment the parcel has left: from here the saga must finish, whatever the operator does.
            const dispatched = async () =>
              Number(
                (
                  await world.db.get<{ n: number }>(
                    "SELECT COUNT(*) AS n FROM outbox WHERE msg_key = ? AND type = 'ShipmentDispatched'",
                    [orderId],
                  )
                )?.n ?? 0,
              ) > 0;
            await waitUntil(dispatched, { timeoutMs: 90_000, intervalMs: 20, what: `${orderId} to be dispatched` });
            injected += 1;
            lastFault = Math.max(lastFault, Date.now());
            await world.client.workflow
              .getHandle(workflowIdFor(orderId))
              .cancel()
              .catch(() => undefined);
            expected.set(orderId, ['COMPLETED']);
            return;
          }
          // The fault itself: the cancellation lands at a random moment of the saga, not at a step boundary.
          await new Promise((r) => setTimeout(r, Math.random() * 4_000));
          injected += 1;
          lastFault = Math.max(lastFault, Date.now());
          if (kind === 'customer') {
            const answer = await world.orders.cancelOrder(orderId, 'changed my mind');
            expected.set(
              orderId,
              answer.accepted ? ['CANCELLED', ...(b.expected === 'REJECTED' ? ['REJECTED'] : [])] : [b.expected],
            );
            return;
          }
          await world.client.workflow
            .getHandle(workflowIdFor(orderId))
            .cancel()
            .catch(() => undefined);
          expected.set(orderId, ['CANCELLED', 'COMPLETED', ...(b.expected === 'REJECTED' ? ['REJECTED'] : [])]);
        }),
      );
      const verdict = await judge(world, expected, 120_000);
      // An operator cancellation may end COMPLETED only if the parcel had left.
      for (const [orderId, allowed] of expected) {
        if (!allowed.includes('COMPLETED') || allowed.length === 1) continue;
        const dispatched = await world.db.get<{ n: number }>(
          "SELECT COUNT(*) AS n FROM outbox WHERE msg_key = ? AND type = 'ShipmentDispatched'",
          [orderId],
        );
        const completed = await world.db.get<{ n: number }>(
          "SELECT COUNT(*) AS n FROM orders WHERE order_id = ? AND status = 'COMPLETED'",
          [orderId],
        );
        if (Number(completed?.n) > 0 && Number(dispatched?.n) === 0) {
          verdict.lost += 1;
          verdict.notes.push(`${orderId}: completed after an operator cancellation without a dispatch`);
        }
      }
      return { sagas, injected, verdict, recoverMs: Math.max(0, verdict.settledAt - lastFault) };
    } finally {
      await stopWarehouse();
      worker.shutdown();
      await running;
      await connection.close();
    }
  },
};
