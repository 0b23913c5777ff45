// Invariant: the time-skipping test server really skips: a one-day timer fires without a day
// passing, so SLA and escalation tests can run in CI.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testServerPath } from '../../env';

let env: TestWorkflowEnvironment;

before(async () => {
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath() } },
  });
});
after(() => env?.teardown());

test('a one-day timer fires after a day of workflow time, in seconds of real time', async () => {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'time-skipping',
    workflowsPath: require.resolve('./smoke-workflow'),
    activities: { greet: async (name: string) => name },
  });
  const began = Date.now();
  const workflowElapsed = await worker.runUntil(
    env.client.workflow.execute<() => Promise<number>>('smokeLongSleep', {
      taskQueue: 'time-skipping',
      workflowId: 'one-day-timer',
    }),
  );
  const realElapsed = Date.now() - began;
  console.log(`one-day timer: ${workflowElapsed} ms of workflow time in ${realElapsed} ms of real time`);
  assert.ok(workflowElapsed >= 24 * 3600 * 1000, 'a full day of workflow time passed');
  // Not a speed target: without skipping this would take a day; seconds prove the jump.
  assert.ok(realElapsed < 60_000, `real time ${realElapsed} ms`);
});
