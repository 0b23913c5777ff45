// Invariant: the workflow code and the patch registry agree: every patched()/deprecatePatch() id is
// registered in that phase, and no patch registered as removed is still called.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkPatches, checkRepository, findPatchCalls } from '../../../versioning/patch-check';
import { patchRegistry, type PatchEntry } from '../../../versioning/patches';
import { corpus } from '../../../versioning/replay';
import { changesBefore17, SagaState } from '../../../workflows/state';

const entry = (id: string, phase: PatchEntry['phase']): PatchEntry => ({
  id,
  phase,
  release: '1.1',
  workflow: 'orderFulfillment',
  change: 'test',
});

test('the repository workflow code agrees with the registry', () => {
  assert.deepEqual(checkRepository(join(__dirname, '..', '..', '..')), []);
});

test('every live patch was introduced by a release whose histories are in the corpus', () => {
  const releases = new Set(corpus().map((e) => e.release));
  for (const p of patchRegistry.filter((x) => x.phase !== 'removed')) {
    assert.ok(releases.has(p.release), `patch '${p.id}' (release ${p.release}): capture versioning/histories/${p.release}/`);
  }
});

test('release-1-7 stands for exactly the patches of the releases before 1.7', () => {
  const before = (release: string) => Number(release.split('.')[1]) < 7 && release.startsWith('1.');
  const registered = patchRegistry.filter((p) => p.phase !== 'removed' && before(p.release)).map((p) => p.id);
  assert.deepEqual([...changesBefore17].sort(), registered.sort());
});

test('a run on 1.7 takes the earlier changes without asking, and asks for any later one', () => {
  const state = new SagaState('order-1', 'order-order-1');
  state.runsRelease17 = true;
  const asked: string[] = [];
  const ask = (id: string, answer: boolean) => () => (asked.push(id), answer);
  assert.equal(state.took('finish-after-dispatch', ask('finish-after-dispatch', false)), true);
  assert.equal(state.took('a-change-of-1-8', ask('a-change-of-1-8', false)), false);
  assert.deepEqual(asked, ['a-change-of-1-8'], 'only the later change calls patched()');
  const older = new SagaState('order-2', 'order-order-2');
  assert.equal(older.took('finish-after-dispatch', ask('finish-after-dispatch', false)), false, 'a run before 1.7 asks');
});

test('finds patch calls with their lines, ignoring comments and declarations', () => {
  const source = [
    "import { patched, deprecatePatch } from '@temporalio/workflow';",
    "// patched('in-a-comment') is not a call",
    "if (patched('fraud-screening')) {",
    '}',
    'deprecatePatch("old-step");',
    'if (patched(someId)) {}',
  ].join('\n');
  assert.deepEqual(findPatchCalls(source, 'w.ts'), [
    { kind: 'patched', id: 'fraud-screening', file: 'w.ts', line: 3 },
    { kind: 'deprecatePatch', id: 'old-step', file: 'w.ts', line: 5 },
    { kind: 'patched', id: undefined, file: 'w.ts', line: 6 },
  ]);
});

test('an unregistered id fails', () => {
  const problems = checkPatches([], [{ kind: 'patched', id: 'x', file: 'w.ts', line: 1 }]);
  assert.match(problems.join('\n'), /patched\('x'\) is not in versioning\/patches.ts/);
});

test('a call in another phase than the registry fails', () => {
  assert.match(
    checkPatches([entry('x', 'deprecated')], [{ kind: 'patched', id: 'x', file: 'w.ts', line: 1 }]).join('\n'),
    /registry holds it as deprecated/,
  );
  assert.match(
    checkPatches([entry('x', 'patched')], [{ kind: 'deprecatePatch', id: 'x', file: 'w.ts', line: 1 }]).join('\n'),
    /registry holds it as patched/,
  );
});

test('a removed patch still called fails', () => {
  const problems = checkPatches([entry('x', 'removed')], [{ kind: 'patched', id: 'x', file: 'w.ts', line: 9 }]);
  assert.match(problems.join('\n'), /w.ts:9: patch 'x' is registered as removed/);
});

test('a registered live patch that no code calls fails; a removed one passes', () => {
  assert.match(checkPatches([entry('x', 'patched')], []).join('\n'), /no workflow code calls patched\('x'\)/);
  assert.deepEqual(checkPatches([entry('x', 'removed')], []), []);
});

test('a non-literal id and a duplicate registry entry fail', () => {
  assert.match(checkPatches([], [{ kind: 'patched', id: undefined, file: 'w.ts', line: 2 }]).join('\n'), /string literal/);
  assert.match(checkPatches([entry('x', 'removed'), entry('x', 'removed')], []).join('\n'), /twice/);
});

test('matching code and registry pass', () => {
  assert.deepEqual(
    checkPatches(
      [entry('a', 'patched'), entry('b', 'deprecated'), entry('c', 'removed')],
      [
        { kind: 'patched', id: 'a', file: 'w.ts', line: 1 },
        { kind: 'deprecatePatch', id: 'b', file: 'w.ts', line: 2 },
      ],
    ),
    [],
  );
});
