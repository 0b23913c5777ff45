// Invariant: every captured history of every released saga version (open and closed, at every wait
// point) replays against the current workflow code; a nondeterministic change fails here, naming
// the history file and the event, instead of failing running sagas in production.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { releaseCommits } from '../../../versioning/releases';
import {
  bundleWorkflows,
  corpus,
  replayCorpus,
  retiredRoot,
  sagaWorkflowsPath,
  type ReplayOutcome,
} from '../../../versioning/replay';

const entries = corpus();
let outcomes: Promise<Map<string, ReplayOutcome>> | undefined;
// One replay worker over the whole corpus: bundling the saga once is most of the cost.
const replayed = () =>
  (outcomes ??= bundleWorkflows(sagaWorkflowsPath())
    .then((bundle) => replayCorpus(bundle, entries))
    .then((list) => new Map(list.map((o) => [o.entry.file, o]))));

test('the corpus holds the released versions, with sagas open at each wait point', () => {
  const releases = new Set(entries.map((e) => e.release));
  const retired = new Set(corpus(retiredRoot).map((e) => e.release));
  // A recorded release is either replayed or retired (its sagas drained), never silently gone.
  for (const release of Object.keys(releaseCommits))
    assert.ok(releases.has(release) || retired.has(release), `release ${release} histories are committed`);
  for (const release of releases)
    assert.ok(
      entries.some((e) => e.release === release && e.scenario.startsWith('open-')),
      `open sagas of ${release} are part of the corpus`,
    );
});

for (const entry of entries) {
  test(`${entry.release}/${entry.scenario} replays on the current code`, async () => {
    const outcome = (await replayed()).get(entry.file);
    assert.ok(outcome, `no replay result for ${entry.file}`);
    if (outcome.error) assert.fail(outcome.error);
  });
}
