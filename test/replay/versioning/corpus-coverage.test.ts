// Invariant: every branch of workflows/ is either executed by a history of the replay corpus or
// listed in versioning/unreachable-branches.ts with the reason no real saga takes it; a new branch
// that is neither fails here, so a path of the saga cannot ship without the replay net reaching it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { corpusCoverage, judgeCoverage, type Branch } from '../../../versioning/corpus-coverage';

test('the corpus covers every branch of the saga that a real saga can take', async () => {
  const branches = await corpusCoverage();
  const verdict = judgeCoverage(branches);
  console.log(`corpus branch coverage: ${verdict.covered}/${verdict.total}`);
  assert.deepEqual(verdict.problems, []);
  assert.ok(branches.some((b) => b.file === 'workflows/order-fulfillment.ts' && b.covered));
});

const branch = (key: string, covered: boolean): Branch => ({ key, file: 'workflows/x.ts', line: 1, covered });

test('a new uncovered branch fails unless listed (unreachable, or awaiting a scenario); a listed branch that is covered or gone fails too', () => {
  assert.match(judgeCoverage([branch('new (if 1/2)', false)], {}, {}).problems.join(), /uncovered: new \(if 1\/2\)/);
  assert.deepEqual(judgeCoverage([branch('new (if 1/2)', false)], { 'new (if 1/2)': 'why' }, {}).problems, []);
  assert.deepEqual(judgeCoverage([branch('new (if 1/2)', false)], {}, { 'new (if 1/2)': 'the scenario it needs' }).problems, []);
  assert.match(judgeCoverage([branch('old (if 1/2)', true)], { 'old (if 1/2)': 'why' }, {}).problems.join(), /covered now/);
  assert.match(judgeCoverage([branch('old (if 1/2)', true)], {}, { 'old (if 1/2)': 'why' }).problems.join(), /covered now/);
  assert.match(judgeCoverage([], { gone: 'why' }, {}).problems.join(), /no longer a branch/);
});
