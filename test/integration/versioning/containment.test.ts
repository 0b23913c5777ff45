// Invariant: a worker that meets a history its code cannot replay fails the workflow TASK, never
// the saga: the execution stays running and visible as a reported problem, and deploying code that
// replays it lets it carry on to its normal end.
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bundleWorkflows } from '../../../versioning/replay';
import { temporalAddress } from '../../env';
import { waitUntil } from '../../wait';

const EventType = temporal.api.enums.v1.EventType;
const Cause = temporal.api.enums.v1.WorkflowTaskFailedCause;
let connection: Connection;
let native: NativeConnection;
let client: Client;
let released: WorkflowBundle;
let broken: WorkflowBundle;

before(async () => {
  connection = await Connection.connect({ address: temporalAddress() });
  native = await NativeConnection.connect({ address: temporalAddress() });
  client = new Client({ connection });
  released = await bundleWorkflows(require.resolve('../../fixtures/deployment/workflows'));
  broken = await bundleWorkflows(require.resolve('../../fixtures/deployment/changed/workflows'));
});

after(async () => {
  await native.close();
  await connection.close();
});

test('a nondeterministic deploy stalls the saga instead of failing it, and the fix resumes it', async () => {
  const suffix = Math.random().toString(36).slice(2, 8);
  const taskQueue = `containment-${suffix}`;
  const worker = (workflowBundle: WorkflowBundle) =>
    Worker.create({ connection: native, taskQueue, workflowBundle, stickyQueueScheduleToStartTimeout: '1s' });

  const handle = await client.workflow.start('waitForProceed', { taskQueue, workflowId: `containment-${suffix}` });
  const v1 = await worker(released);
  await v1.runUntil(waitUntil(async () => (await handle.fetchHistory()).events?.some((e) => e.eventType === EventType.EVENT_TYPE_TIMER_FIRED), {
    what: 'the saga to reach its wait point on the released code',
  }));

  const bad = await worker(broken);
  await bad.runUntil(async () => {
    await handle.signal('proceed');
    await waitUntil(async () => (await handle.fetchHistory()).events?.some(
      (e) => e.workflowTaskFailedEventAttributes?.cause === Cause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR,
    ), { what: 'the broken code to fail the workflow task as nondeterministic' });
    // Temporal retries the failing task (the UI shows it pending with its failure); the saga waits.
    await waitUntil(async () => ((await handle.describe()).raw.pendingWorkflowTask?.attempt ?? 0) > 1, {
      what: 'the failing workflow task to be retried',
    });
    const stalled = await handle.describe();
    assert.equal(stalled.status.name, 'RUNNING', 'the saga is not failed by nondeterminism');
    assert.ok((stalled.raw.pendingWorkflowTask?.attempt ?? 0) > 1, 'the workflow task is being retried');
  });

  const began = Date.now();
  const fixed = await worker(released);
  const result = await fixed.runUntil(handle.result());
  console.log(`resumed ${Date.now() - began} ms after the fix was deployed`);
  assert.equal(result, 'done');
  assert.equal((await handle.describe()).status.name, 'COMPLETED');
});
