// Invariant: the saga engine loses nothing, applies nothing twice and leaves reconciliation nothing
// to find when the servers under it go away mid-burst. The short version of `npm run faults`: the
// cases that cover the most for their time (the worker's Temporal server stopped and restarted on
// its database, the participants' PostgreSQL restarted), each on servers of its own, with --short
// settings; the full suite (`npm run faults`) runs every case with bigger bursts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FaultCase } from '../../faults/case';
import { postgresRestart } from '../../faults/cases/postgres-restart';
import { temporalRestart } from '../../faults/cases/temporal-restart';
import { openWorld } from '../../faults/world';

const SHORT_CASES: Array<[string, FaultCase]> = [
  ['temporal-restart', temporalRestart],
  ['postgres-restart', postgresRestart],
];

for (const [id, c] of SHORT_CASES) {
  test(`${c.name}: no saga lost, no effect twice, nothing for reconciliation`, async () => {
    const world = await (c.open ?? openWorld)(id);
    try {
      const r = await c.run(world, { sagas: 12, short: true });
      assert.ok(r.injected > 0, 'the fault was injected');
      const { lost, duplicated, discrepancies, notes } = r.verdict;
      assert.deepEqual({ lost, duplicated, discrepancies }, { lost: 0, duplicated: 0, discrepancies: 0 }, notes.join('\n'));
    } finally {
      await world.close();
    }
  });
}
