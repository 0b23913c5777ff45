import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { OrderClient } from '../api/client';
import type { Database } from '../platform/database';

/** Small pieces the saga benchmarks share: percentiles, a bounded pool, the order they start. */
export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

/** Runs fn over items with at most `concurrency` in flight (starting 10,000 sagas at once would swamp the server). */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export const anOrder = (orderId: string) => ({
  orderId,
  customer: { id: 'bench', name: 'Bench', email: 'bench@example.com' },
  lines: [{ sku: 'beans', quantity: 1, unitPrice: { amount: 1000, currency: 'EUR' } }],
  shippingAddress: { name: 'Bench', line1: 'Street 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
  payment: { methodToken: 'tok_visa' },
});

/**
 * The warehouse: reads OrderConfirmed rows as they are appended (the event a real warehouse would
 * consume) and confirms each dispatch, retrying a refusal a few milliseconds later.
 */
export function startWarehouse(
  db: Database,
  orders: OrderClient,
  { roundTrips, refusals, retryMs }: { roundTrips: number[]; refusals: { count: number }; retryMs: number },
) {
  let stopped = false;
  let lastSeq = 0;
  const inFlight = new Set<Promise<void>>();
  const confirm = async (orderId: string) => {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const t0 = performance.now();
      const answer = await orders.confirmDispatch(orderId, { trackingNumber: `T-${orderId}` }).catch((err: unknown) => {
        // On a saturated machine the update's RPC can time out, or find the workflow task failed (timed out); a real warehouse asks again.
        if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || err instanceof ServiceError)
          return { accepted: false as const };
        throw err;
      });
      if (answer.accepted) {
        roundTrips.push(performance.now() - t0);
        return;
      }
      // Each refusal is a workflow task the worker runs and the server schedules: saga overhead the bench makes.
      refusals.count++;
      await new Promise((r) => setTimeout(r, retryMs));
    }
    throw new Error(`dispatch of ${orderId} never accepted`);
  };
  const loop = (async () => {
    while (!stopped) {
      const rows = await db.all<{ seq: number; msg_key: string }>(
        "SELECT seq, msg_key FROM outbox WHERE type = 'OrderConfirmed' AND seq > ? ORDER BY seq",
        [lastSeq],
      );
      for (const r of rows) {
        lastSeq = Number(r.seq);
        const p = confirm(r.msg_key).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(inFlight);
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}
