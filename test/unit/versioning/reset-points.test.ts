// Invariant: `saga reset --to before-misordered-update` finds, in a history the SDK can no longer
// replay (an update accepted after other commands of its workflow task), the completed task just
// before that task; and finds nothing in any history of the replay corpus, where every update was
// accepted first in its task. The two fixtures are real: the interleaving explorer's sagas that got
// stuck this way on the dev server (seeds 20261130 cases 42 and 220, 20261201 case 1069, 20261202 case 308; worker restarts and queries).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { corpus, loadHistory } from '../../../versioning/replay';
import { beforeMisorderedUpdate, lastWorkflowTask, updatesAfter } from '../../../versioning/reset-points';

const fixture = (name: string) => loadHistory(join(__dirname, '../../fixtures/misordered-update', `${name}.json`));

test('a dispatch accepted after the saga entered its wait in the same task: reset to the task before', () => {
  const history = fixture('dispatch-after-confirm-order');
  assert.equal(beforeMisorderedUpdate(history), 45);
  assert.equal(lastWorkflowTask(history), 65, 'the last task lies after the misordered one, so it cannot help');
  // What the reset sends to the new run again: the warehouse's dispatch, with its own id and tracking number.
  const [dispatch, ...more] = updatesAfter(history, 45);
  assert.deepEqual(more, []);
  assert.equal(dispatch?.name, 'confirmDispatch');
  assert.ok(dispatch.updateId.length > 0);
  assert.equal(dispatch.input.args?.payloads?.length, 1);
});

test("a cancellation accepted after the next step's scheduling in the same task: reset to the task before", () => {
  const history = fixture('cancel-after-reserve-stock');
  assert.equal(beforeMisorderedUpdate(history), 47);
});

test('a cancellation accepted after the screening was scheduled: core names the patch marker instead, same repair', () => {
  assert.equal(beforeMisorderedUpdate(fixture('cancel-before-screening')), 4);
});

test('a dispatch whose task recorded no flag 6 though the interceptors ran: reset to the task before', () => {
  assert.equal(beforeMisorderedUpdate(fixture('dispatch-with-lost-sdk-flag')), 59);
});

test('no history of the replay corpus has a misordered update', () => {
  const entries = corpus();
  let withUpdates = 0;
  for (const entry of entries) {
    const history = loadHistory(entry.file);
    if (history.events?.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes)) withUpdates += 1;
    assert.equal(beforeMisorderedUpdate(history), undefined, entry.file);
  }
  assert.ok(withUpdates >= 10, `the corpus has sagas with accepted updates (${withUpdates})`);
});
