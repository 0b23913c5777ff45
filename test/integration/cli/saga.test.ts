// Invariant: `trapeze saga` tells the truth about sagas on a real server: `show` prints the
// ledger and status of an order (exit 4 for an unknown one), `list` finds sagas by the SagaStatus
// and SagaStep search attributes, `cancel` is accepted before dispatch and refused (exit 2)
// after the saga ended, `dispatch` completes a waiting saga, and `reset --to last-workflow-task`
// starts a new run that keeps waiting where the old one was and keeps every update the old run had
// accepted after that point (sent again until the new run takes it, from any reset point); usage errors exit 64 and --json
// prints the documented shapes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { restock } from '../../../activities/inventory/ledger';
import { workflowIdFor } from '../../../domain/ids';
import { anOrder, reaches, startHarness, uniqueId, type SagaHarness } from '../workflows/harness';
import { taskThatScheduled } from '../../../versioning/reset-points';
import { waitUntil } from '../../wait';
import { json, trapeze } from './trapeze';

let h: SagaHarness;
before(async () => {
  h = await startHarness();
});
after(() => h.stop());

async function saga(...argv: string[]): Promise<{ code: number; out: string }> {
  const run = await trapeze(['saga', ...argv], { client: h.client, taskQueue: h.taskQueue });
  return { code: run.code, out: [run.out, run.err].filter(Boolean).join('\n') };
}

async function waitingOrder(label: string): Promise<string> {
  const orderId = uniqueId(label);
  const sku = `sku-${orderId}`;
  await h.db.transaction((tx) => restock(tx, { [sku]: 10 }));
  await h.orders.startOrder(anOrder({ orderId, lines: [{ sku, quantity: 1, unitPrice: { amount: 1000, currency: 'EUR' } }] }));
  // A generous deadline: the shared dev server runs other suites' sagas alongside these.
  await reaches(h, orderId, 'AWAITING_DISPATCH', 180_000);
  return orderId;
}

/** Visibility lags the saga's search attribute updates: poll `list` until the row appears. */
const listed = (orderId: string, ...filters: string[]) =>
  waitUntil(
    async () => {
      const { code, out } = await saga('list', '--task-queue', h.taskQueue, ...filters);
      assert.equal(code, 0);
      return out.split('\n').find((l) => l.startsWith(`${orderId}\t`));
    },
    { what: `${orderId} listed with ${filters.join(' ')}` },
  );

test('show prints the ledger and status; unknown orders exit 4', async () => {
  const orderId = await waitingOrder('cli-show');
  const { code, out } = await saga('show', orderId);
  assert.equal(code, 0);
  assert.match(out, new RegExp(`order ${orderId} \\(workflow ${workflowIdFor(orderId)}\\)`));
  assert.match(out, /status AWAITING_DISPATCH; current step awaitDispatch/);
  assert.match(out, /done {5}authorizePayment/);
  const shown = await saga('show', orderId, '--json');
  const parsed = JSON.parse(shown.out) as {
    workflowStatus: string;
    searchAttributes: { SagaStatus: string };
    progress: { status: string };
  };
  assert.deepEqual([parsed.workflowStatus, parsed.progress.status], ['RUNNING', 'AWAITING_DISPATCH']);
  assert.ok('SagaStatus' in parsed.searchAttributes);

  const unknown = await saga('show', uniqueId('cli-nobody'));
  assert.equal(unknown.code, 4);
  assert.match(unknown.out, /unknown order/);
  const unknownJson = await saga('show', uniqueId('cli-nobody'), '--json');
  assert.equal(unknownJson.code, 4);
  assert.match(unknownJson.out, /"exitCode": ?4/);
  assert.equal((await saga('show')).code, 64, 'usage error without an order id');
  assert.equal((await saga('show', orderId, '--bogus')).code, 64, 'usage error on an unknown option');
});

test('list filters by SagaStatus and SagaStep', async () => {
  const orderId = await waitingOrder('cli-list');
  const row = await listed(orderId, '--status', 'AWAITING_DISPATCH');
  assert.match(row, /\tAWAITING_DISPATCH\t/);
  const step = row.split('\t')[2] ?? '';
  assert.ok(step && step !== '-', `the row names the saga step (${row})`);
  await listed(orderId, '--status', 'AWAITING_DISPATCH', '--step', step);
  const none = await saga('list', '--task-queue', h.taskQueue, '--status', 'COMPLETED');
  assert.ok(!none.out.includes(orderId), 'a waiting saga is not listed as COMPLETED');
  assert.equal((await saga('list', '--status', 'BOGUS')).code, 64);
  assert.equal((await saga('list', '--limit', '0')).code, 64);
  const rows = await waitUntil(
    async () => {
      const run = await trapeze(['saga', 'list', '--task-queue', h.taskQueue, '--status', 'AWAITING_DISPATCH', '--json'], {
        client: h.client,
      });
      assert.equal(run.code, 0, run.err);
      const found = json<{ sagas: Array<{ orderId: string; sagaStatus: string; workflowStatus: string }>; truncated: boolean }>(
        run,
      ).sagas.find((r) => r.orderId === orderId);
      return found;
    },
    { what: `${orderId} in the --json list` },
  );
  assert.deepEqual([rows.sagaStatus, rows.workflowStatus], ['AWAITING_DISPATCH', 'RUNNING']);
});

test('cancel is accepted while waiting, then refused once the saga ended', async () => {
  const orderId = await waitingOrder('cli-cancel');
  const accepted = await saga('cancel', orderId, 'customer', 'called');
  assert.equal(accepted.code, 0, accepted.out);
  assert.match(accepted.out, /cancellation accepted/);
  const ledger = await reaches(h, orderId, 'CANCELLED');
  assert.deepEqual(ledger.cancellation, { reason: 'customer called' });
  await listed(orderId, '--status', 'CANCELLED');
  const refused = await saga('cancel', orderId, 'again');
  assert.equal(refused.code, 2);
  assert.match(refused.out, /refused: .*CANCELLED/);
  const refusedJson = await saga('cancel', orderId, 'again', '--json');
  assert.equal(refusedJson.code, 2);
  assert.deepEqual(Object.keys(JSON.parse(refusedJson.out) as object).sort(), ['accepted', 'orderId', 'reason']);
  assert.equal((await saga('cancel', orderId)).code, 64, 'a cancel needs a reason');
});

test('reset to the last workflow task starts a new run that still waits; dispatch then completes it', async () => {
  const orderId = await waitingOrder('cli-reset');
  const before = await h.client.workflow.getHandle(workflowIdFor(orderId)).describe();
  assert.equal((await saga('reset', orderId)).code, 64, 'reset needs --to');
  assert.equal((await saga('reset', orderId, '--to', 'yesterday')).code, 64);
  const reset = await saga('reset', orderId, '--to', 'last-workflow-task');
  assert.equal(reset.code, 0, reset.out);
  const after = await h.client.workflow.getHandle(workflowIdFor(orderId)).describe();
  assert.notEqual(after.runId, before.runId, 'a new run');
  assert.equal(after.status.name, 'RUNNING');
  await reaches(h, orderId, 'AWAITING_DISPATCH');
  const dispatched = await saga('dispatch', orderId, 'TRK-42', '--carrier', 'DHL');
  assert.equal(dispatched.code, 0, dispatched.out);
  assert.equal((await h.orders.orderOutcome(orderId)).status, 'COMPLETED');
  const late = await saga('dispatch', orderId, 'TRK-43');
  assert.equal(late.code, 2, 'a second dispatch is refused');
  assert.match(late.out, /refused: /);
});

test('reset reapplies an update accepted after the reset point: the dispatch is not lost', async () => {
  const orderId = await waitingOrder('cli-reset-update');
  // The dispatch is accepted in the saga's last workflow task, and its next step then keeps failing.
  let failing = true;
  h.plan(orderId, (operation) => {
    if (failing && operation === 'recordDispatch') throw new Error('recordDispatch: reply lost (test fault)');
  });
  await h.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-KEPT' });
  const handle = h.client.workflow.getHandle(workflowIdFor(orderId));
  await waitUntil(
    async () =>
      (await handle.describe()).raw.pendingActivities?.some(
        (a) => a.activityType?.name === 'recordDispatch' && (a.attempt ?? 0) >= 2,
      ),
    { what: 'recordDispatch retrying after the accepted dispatch', timeoutMs: 120_000 },
  );
  failing = false;
  const reset = await saga('reset', orderId, '--to', 'last-workflow-task');
  assert.equal(reset.code, 0, reset.out);
  // Without the update reapplied the new run would wait for a dispatch the warehouse was told is done.
  const outcome = await h.orders.orderOutcome(orderId);
  assert.equal(outcome.status, 'COMPLETED');
  assert.ok(JSON.stringify(outcome.progress).includes('TRK-KEPT'), 'completed with the accepted tracking number');
});

test('reset to a task before the wait sends the accepted dispatch again once the new run waits: it is not refused and lost', async () => {
  // The server's own reapply hands the dispatch to the new run's first task, while the run is
  // still confirming the order, so the point-of-no-return validator refuses it and it is gone: the
  // saga would wait for a dispatch the warehouse was told is done (the explorer's seed 20261203 case 174).
  const orderId = await waitingOrder('cli-reset-resend');
  await h.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-RESENT' });
  assert.equal((await h.orders.orderOutcome(orderId)).status, 'COMPLETED');
  const handle = h.client.workflow.getHandle(workflowIdFor(orderId));
  const point = taskThatScheduled(await handle.fetchHistory(), 'confirmOrder');
  assert.ok(point, 'the task that scheduled confirmOrder');
  const reset = await saga('reset', orderId, '--event', String(point));
  assert.equal(reset.code, 0, reset.out);
  assert.match(reset.out, /update confirmDispatch sent again: accepted by the new run/);
  const outcome = await h.orders.orderOutcome(orderId);
  assert.equal(outcome.status, 'COMPLETED');
  assert.ok(JSON.stringify(outcome.progress).includes('TRK-RESENT'), 'completed with the accepted tracking number');
  const newRun = (await h.client.workflow.getHandle(workflowIdFor(orderId)).fetchHistory()).events ?? [];
  assert.equal(newRun.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length, 1, 'the dispatch taken once');
  assert.equal((await saga('reset', orderId, '--event', '2')).code, 2, 'event 2 is no completed workflow task');
  assert.equal((await saga('reset', orderId, '--event', 'x')).code, 64);
  assert.equal((await saga('reset', orderId, '--to', 'last-workflow-task', '--event', '4')).code, 64);
});

test('reset --to before-misordered-update refuses (exit 2) a history that has no misordered update', async () => {
  const orderId = await waitingOrder('cli-reset-misordered');
  const refused = await saga('reset', orderId, '--to', 'before-misordered-update');
  assert.equal(refused.code, 2, refused.out);
  assert.match(refused.out, /no before-misordered-update point/);
});

test('compensate cancels the workflow and the saga undoes its steps', async () => {
  const orderId = await waitingOrder('cli-compensate');
  assert.equal((await saga('compensate', orderId)).code, 0);
  const result = await h.orders.orderOutcome(orderId);
  assert.equal(result.status, 'CANCELLED');
  assert.ok(
    result.progress.compensations.some((c) => c.state === 'done'),
    'undos ran',
  );
});
