// Invariant: the patch lifecycle retires exactly the corpus folders whose sagas the next release
// could not resume, and every folder still in the corpus replays. Release 1.5 deprecated
// `fraud-screening` (deprecatePatch, new branch only): it strands every saga that passed submission
// without the marker, so release 1.0's folder was retired (versioning/histories/retired/), while
// the 1.1 to 1.4 histories, whose marker patched() wrote, and those of 1.5 and later still replay.
// Release 1.8 (the call removed, generated from the current code) strands every first run that carries
// the non-deprecated marker: the folders of 1.1 to 1.4 must be retired before it ships, 1.5's and
// 1.6's stay, and 1.7's, whose sagas record release-1-7 instead of any fraud-screening marker.
// Runs that continued an earlier run as new carry the path in their input and replay at every
// step: they retire nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bundleWorkflows,
  corpus,
  loadHistory,
  replayCorpus,
  retiredRoot,
  sagaWorkflowsPath,
  type CorpusEntry,
  type ReplayOutcome,
} from '../../../versioning/replay';
import { prematureRelease18 } from '../../../versioning/variants';

const entries = corpus();
const retired = corpus(retiredRoot);
const releases = (list: CorpusEntry[]) => [...new Set(list.map((e) => e.release))];
/** The releases that called patched('fraud-screening'): their histories carry a non-deprecated marker. */
const patchedReleases = ['1.1', '1.2', '1.3', '1.4'];
/** The releases since 1.5, whose histories carry the deprecated marker (or none: a continued run, or 1.7's release-1-7). */
const deprecatedReleases = ['1.5', '1.6', '1.7'];

/**
 * The run met the patch point: it got past submission (a saga whose submission failed never reached
 * it) and is a saga's first run. A run that continued an earlier one reads the path that run took
 * from its input and calls neither patched() nor deprecatePatch(), so it replays at every step.
 */
const passedPatchPoint = (e: CorpusEntry) => {
  const events = loadHistory(e.file).events ?? [];
  return (
    !events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId &&
    events.some((ev) => {
      const type = ev.activityTaskScheduledEventAttributes?.activityType?.name;
      return type !== undefined && type !== 'submitOrder' && type !== 'cancelOrder';
    })
  );
};
const names = (list: { entry: CorpusEntry }[]) => list.map((o) => `${o.entry.release}/${o.entry.scenario}`).sort();

async function replayAll(workflowsPath: string) {
  const outcomes = await replayCorpus(await bundleWorkflows(workflowsPath), [...entries, ...retired]);
  const of = (rs: string[]) => outcomes.filter((o) => rs.includes(o.entry.release));
  return {
    failed: (rs: string[]) => of(rs).filter((o) => o.error),
    shouldFail: (rs: string[]) => of(rs).filter((o) => passedPatchPoint(o.entry)),
    of,
  };
}
const errors = (list: ReplayOutcome[]) => list.map((o) => o.error);

test('the corpus holds 1.1 to 1.6, 1.0 is retired', () => {
  assert.deepEqual(releases(entries), [...patchedReleases, ...deprecatedReleases]);
  assert.deepEqual(releases(retired), ['1.0']);
});

test('the current release replays every history in the corpus and fails exactly the retired 1.0 sagas past submission', async () => {
  const r = await replayAll(sagaWorkflowsPath());
  assert.deepEqual(errors(r.failed(releases(entries))), [], 'every history still in the corpus replays on the current code');
  const failed = r.failed(['1.0']);
  assert.ok(failed.length > 0);
  assert.deepEqual(names(failed), names(r.shouldFail(['1.0'])), 'why 1.0 had to be retired');
  // A 1.0 saga waiting for dispatch authorized its payment where 1.5 and later screen the order: named to the event.
  const open = failed.find((o) => o.entry.scenario === 'open-awaiting-dispatch');
  assert.ok(open?.error);
  assert.match(open.error, /^versioning\/histories\/retired\/1\.0\/open-awaiting-dispatch\.json: DeterminismViolationError/);
  assert.match(open.error, /at event \d+ \(ActivityTaskScheduled authorizePayment\)/);
  assert.match(open.error, /does not match activity type of activity command 'screenOrder'/);
});

test('release 1.8 (the call removed) requires 1.1 to 1.4 retired; 1.5 to 1.7 histories replay without it and stay', async () => {
  const variant = prematureRelease18();
  const r = await replayAll(variant.workflowsPath).finally(() => variant.remove());
  for (const release of patchedReleases) {
    assert.ok(r.failed([release]).length > 0, release);
    assert.deepEqual(names(r.failed([release])), names(r.shouldFail([release])), release);
  }
  assert.ok(
    r.failed(['1.1']).some((o) => /Non-deprecated patch marker encountered for change fraud-screening/.test(o.error ?? '')),
  );
  for (const release of deprecatedReleases) {
    assert.ok(r.of([release]).length > 0, release);
    assert.deepEqual(errors(r.failed([release])), [], `${release} histories replay without the call`);
  }
  // Runs that continued as new past the patch point are among those that must replay (exactly the
  // first runs failed above): they retire nothing.
  assert.ok(r.of(['1.2']).some((o) => o.entry.scenario.startsWith('continued-as-new') && !passedPatchPoint(o.entry)));
});
