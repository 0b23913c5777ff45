// Invariant: a saga stuck on "Update machine does not handle this event" (an update the SDK
// accepted after other commands of the same workflow task, which replay reorders) is repaired by
// `trapeze saga reset --to before-misordered-update`: its history up to that point replays on the
// current code. The full histories are asserted to fail, so the day an SDK upgrade replays them,
// this test says so and the workaround can be revisited. Real histories from the explorer.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { bundleWorkflows, loadHistory, sagaSinks, sagaWorkflowsPath } from '../../../versioning/replay';
import { beforeMisorderedUpdate } from '../../../versioning/reset-points';

const fixtures = [
  'dispatch-after-confirm-order',
  'cancel-after-reserve-stock',
  'cancel-before-screening',
  'dispatch-with-lost-sdk-flag',
];
let bundle: ReturnType<typeof bundleWorkflows> | undefined;
const replay = async (name: string, history: ReturnType<typeof loadHistory>) =>
  Worker.runReplayHistory(
    { workflowBundle: await (bundle ??= bundleWorkflows(sagaWorkflowsPath())), sinks: sagaSinks() },
    history,
    name,
  );

for (const name of fixtures) {
  test(`${name}: stuck as recorded, replays up to the reset point`, async () => {
    const history = loadHistory(join(__dirname, '../../fixtures/misordered-update', `${name}.json`));
    await assert.rejects(
      replay(name, history),
      (err: Error) => err.name === 'DeterminismViolationError' && /Nondeterminism error/.test(err.message),
    );
    const point = beforeMisorderedUpdate(history);
    assert.ok(point);
    await replay(`${name}-prefix`, { events: history.events?.filter((e) => Number(e.eventId) <= point) ?? [] });
  });
}
