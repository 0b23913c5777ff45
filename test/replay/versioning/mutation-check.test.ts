// Invariant: the replay corpus catches every generated mutation of the saga that changes its
// commands (or the mutation is listed with the reason replay cannot catch it), and accepts every
// generated change Temporal accepts (timeouts, retry policies, summaries, log lines, a new query):
// the full `npm run mutation`, so a path of the saga the corpus does not guard fails the build.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judge, runMutations } from '../../../versioning/mutation-check';
import { generateMutations } from '../../../versioning/mutations';
import { corpus } from '../../../versioning/replay';

test('the corpus catches every generated mutation and raises no false alarm', async () => {
  const mutations = generateMutations();
  const results = await runMutations(mutations, corpus());
  const verdict = judge(results);
  console.log(`caught ${verdict.caught} of ${verdict.expected} mutations`);
  assert.deepEqual(verdict.problems, []);
  assert.ok(verdict.expected >= 40, `${verdict.expected} mutations expected to be caught`);
});
