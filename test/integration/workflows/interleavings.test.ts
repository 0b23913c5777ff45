// Invariant: in any order of step outcomes (done, reply lost, down for good), customer and operator
// cancellations, early dispatches, valid / forged / duplicate webhooks and saga worker restarts
// (sagas run 24 at a time, so a restart lands in the others' work too), an order never ends
// half-done: nothing held for a closed order, every capture of an uncompleted order refunded, no
// stock or shipment kept for it, a dispatched order completed and captured, and one outbox event per
// state change. Real SQL ledgers (SQLite) on the real dev server: the time-skipping test server
// rejects an activity cancellation that crosses the activity's completion (ACTIVITY_UNKNOWN) and
// leaves the saga stuck, which the dev server does not. `npm run explore -- --runs N` runs the same
// property at length; the seed is printed on failure and `EXPLORE_SEED` replays it.
import fc from 'fast-check';
import { after, before, test } from 'node:test';
import { BATCH, batch, startExplorer, type Explorer } from '../../explore/interleavings';

let explorer: Explorer;
before(async () => {
  explorer = await startExplorer('dev');
});
after(async () => {
  await explorer.stop();
});

test('no interleaving of faults, cancellations, dispatches and webhooks leaves an order half-done', async () => {
  const seed = Number(process.env.EXPLORE_SEED ?? Date.now() % 2 ** 31);
  await fc.assert(
    fc.asyncProperty(batch, async (scenarios) => {
      const outcomes = await Promise.all(scenarios.map((s) => explorer.run(s)));
      const broken = outcomes.filter((o) => o.violations.length > 0);
      if (broken.length > 0) throw new Error(broken.map((o) => `${o.result.status}: ${o.violations.join('; ')}`).join(' | '));
    }),
    { numRuns: Math.ceil(Number(process.env.EXPLORE_RUNS ?? 48) / BATCH), seed, endOnFailure: true, includeErrorInReport: true },
  );
});
