// Invariant: a workflow task that Core fails is counted by its cause, nondeterminism apart from
// the rest, from the one WARN line Core writes for it; the count starts at zero for both causes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { sagaMetrics } from '../../../workers/saga-metrics';
import { observeWorkflowTaskFailures, onWorkflowTaskFailure } from '../../../workers/sdk-logging';

test('failed workflow tasks are counted by cause from Core’s log line', async () => {
  const registry = new Registry();
  const metrics = sagaMetrics(registry);
  const series = async () => (await registry.getSingleMetric('trapeze_workflow_task_failures_total')?.get())?.values ?? [];
  assert.deepEqual(
    (await series()).map((v) => [v.labels.reason, v.value]),
    [
      ['nondeterminism', 0],
      ['other', 0],
    ],
  );
  const stop = onWorkflowTaskFailure((reason) => metrics.workflowTaskFailed(reason));
  observeWorkflowTaskFailures('WARN', 'Failing workflow task', {
    run_id: 'r1',
    failure:
      'Failure { failure: Some(Failure { message: "[TMPRL1100] Nondeterminism error: Activity type of scheduled event ..." }) }',
  });
  observeWorkflowTaskFailures('WARN', 'Failing workflow task', { run_id: 'r2', failure: 'TypeError: x is not a function' });
  observeWorkflowTaskFailures('WARN', 'Activity failed', { failure: 'Nondeterminism' });
  stop();
  observeWorkflowTaskFailures('WARN', 'Failing workflow task', { failure: 'after the listener left' });
  const counts: Record<string, number> = Object.fromEntries((await series()).map((v) => [String(v.labels.reason), v.value]));
  assert.deepEqual(counts, { nondeterminism: 1, other: 1 });
});
