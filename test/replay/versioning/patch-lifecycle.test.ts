// Invariant: the patch lifecycle retires exactly the corpus folders whose sagas the next release
// could not resume. Deprecating `fraud-screening` (deprecatePatch, new branch only) strands every
// saga that passed submission without the marker: release 1.0's folder must be retired (its sagas
// drained) first, while 1.1's histories still replay. Removing the call strands every saga that
// carries the non-deprecated marker patched() wrote: the folders of 1.1 and every release since
// that still called patched('fraud-screening') must be retired before that. Runs that continued an
// earlier run as new carry the path in their input and replay at every step: they retire nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bundleWorkflows, corpus, loadHistory, replayCorpus, type CorpusEntry } from '../../../versioning/replay';
import { patchLifecycleVariant } from '../../../versioning/variants';

const entries = corpus();
const releasesWithMarker = [...new Set(entries.map((e) => e.release))].filter((r) => r !== '1.0');

/**
 * The run met the patch point: it got past submission (a saga whose submission failed never reached
 * it) and is a saga's first run. A run that continued an earlier one reads the path that run took
 * from its input and calls neither patched() nor deprecatePatch(), so it replays at every step.
 */
const passedPatchPoint = (e: CorpusEntry) =>
  !loadHistory(e.file).events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId &&
  (loadHistory(e.file).events ?? []).some((ev) => {
    const type = ev.activityTaskScheduledEventAttributes?.activityType?.name;
    return type !== undefined && type !== 'submitOrder' && type !== 'cancelOrder';
  });
const names = (list: { entry: CorpusEntry }[]) => list.map((o) => o.entry.scenario).sort();

async function failing(phase: 'deprecated' | 'removed') {
  const variant = patchLifecycleVariant('fraud-screening', phase);
  const bundle = await bundleWorkflows(variant.workflowsPath).finally(() => variant.remove());
  const outcomes = await replayCorpus(bundle, entries);
  const byRelease = (r: string) => outcomes.filter((o) => o.entry.release === r);
  return {
    failed: (r: string) => byRelease(r).filter((o) => o.error),
    all: byRelease,
  };
}

test('deprecating the patch requires the 1.0 folder retired; 1.1 histories still replay', async () => {
  const r = await failing('deprecated');
  assert.deepEqual(names(r.failed('1.0')), names(r.all('1.0').filter((o) => passedPatchPoint(o.entry))));
  assert.ok(r.failed('1.0').length > 0);
  for (const release of releasesWithMarker)
    assert.deepEqual(
      r.failed(release).map((o) => o.error),
      [],
      `${release} histories carry the marker deprecatePatch accepts`,
    );
});

test('removing the patch call requires the 1.1 and later folders retired too: their markers are not deprecated', async () => {
  const r = await failing('removed');
  assert.deepEqual(names(r.failed('1.0')), names(r.all('1.0').filter((o) => passedPatchPoint(o.entry))));
  for (const release of releasesWithMarker)
    assert.deepEqual(names(r.failed(release)), names(r.all(release).filter((o) => passedPatchPoint(o.entry))), release);
  const failed11 = r.failed('1.1');
  assert.ok(failed11.some((o) => /Non-deprecated patch marker encountered for change fraud-screening/.test(o.error ?? '')));
});
