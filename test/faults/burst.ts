import type { CaseResult } from './case';
import { judge } from './judge';
import { burstOrders, startWarehouse, type Role, type World } from './world';

/**
 * The frame the pipeline cases share: a saga worker process of the world, the warehouse, the
 * burst started in two halves with the fault in between (so sagas are in flight on both sides
 * of it), then the verdict. `fault` injects and recovers; it calls `faulted()` at each fault and
 * returns once the world is whole again (every process it stopped runs again).
 */
export interface FaultWindow {
  worker: Role;
  /** Starts the second half of the burst (the fault is under way); awaited before judging. */
  startRest: () => Promise<void>;
  /** Counts one fault injected, now. */
  faulted: () => void;
}

export async function burstWithFault(
  world: World,
  { sagas, short }: { sagas: number; short: boolean },
  fault: (w: FaultWindow) => Promise<void>,
  { foreign = () => 0 }: { foreign?: () => number } = {},
): Promise<CaseResult> {
  const worker = world.spawn('saga-worker');
  const stopWarehouse = startWarehouse(world, () => Math.random() * 500);
  const burst = burstOrders(world, sagas);
  const expected = new Map(burst.map((b) => [b.order.orderId, [b.expected] as const]));
  const half = Math.ceil(sagas / 2);
  let injected = 0;
  let lastFault = Date.now();
  let rest: Promise<unknown> = Promise.resolve();
  try {
    await Promise.all(burst.slice(0, half).map((b) => world.orders.startOrder(b.order)));
    await fault({
      worker,
      startRest: () => {
        rest = Promise.all(burst.slice(half).map((b) => world.orders.startOrder(b.order)));
        return rest.then(() => undefined);
      },
      faulted: () => {
        injected += 1;
        lastFault = Date.now();
      },
    });
    await rest;
    const verdict = await judge(world, expected, short ? 300_000 : 420_000, { foreign: foreign() });
    return { sagas, injected, verdict, recoverMs: Math.max(0, verdict.settledAt - lastFault) };
  } finally {
    await stopWarehouse();
    await worker.kill('SIGTERM');
  }
}

/** How many outbox rows have reached Kafka (marked sent). */
export async function sentRows(world: World): Promise<number> {
  return Number((await world.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM outbox_sent'))?.n ?? 0);
}
