// Invariant: the replay net catches what it must. Release 1.1's fraud screening WITHOUT its
// patched('fraud-screening') guard (generated from the current code, never shipped) fails replay of
// the 1.0 corpus, with the history file and the event named; the same change behind the patch
// (the real workflows/) replays every 1.0 history.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bundleWorkflows, corpus, replayCorpus } from '../../../versioning/replay';
import { unpatchedRelease11 } from '../../../versioning/variants';

const release10 = corpus().filter((e) => e.release === '1.0');

test('the unpatched 1.1 change breaks every 1.0 saga that passed submission', async () => {
  assert.ok(release10.length > 0, 'the 1.0 corpus is committed');
  const variant = unpatchedRelease11();
  const bundle = await bundleWorkflows(variant.workflowsPath).finally(() => variant.remove());
  const outcomes = await replayCorpus(bundle, release10);
  const failed = outcomes.filter((o) => o.error);
  // Every 1.0 saga submitted its order and then authorized payment: the unpatched code screens in between.
  assert.deepEqual(
    failed.map((o) => o.entry.scenario),
    outcomes.map((o) => o.entry.scenario),
  );
  const open = failed.find((o) => o.entry.scenario === 'open-awaiting-dispatch');
  assert.ok(open?.error);
  assert.match(open.error, /^versioning\/histories\/1\.0\/open-awaiting-dispatch\.json: DeterminismViolationError/);
  assert.match(open.error, /at event \d+ \(ActivityTaskScheduled authorizePayment\)/);
  assert.match(open.error, /does not match activity type of activity command 'screenOrder'/);
});
