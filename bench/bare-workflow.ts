import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { SagaStatusAttribute, SagaStepAttribute } from '../workflows/definitions';

/**
 * The bundle `npm run bench:saga` runs: the order saga as it ships, beside the bare limit it is
 * measured against, a workflow that runs the same number of no-op activities one after another
 * (no ledgers, no outbox, no search attributes, no messages). One worker runs both, so both see
 * the same worker settings on the same server.
 */
export { orderFulfillment } from '../workflows';

const { noop } = proxyActivities<{ noop(step: number): Promise<number> }>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 10 },
});

export async function bareWorkflow(steps: number): Promise<number> {
  for (let i = 0; i < steps; i++) await noop(i);
  return steps;
}

/**
 * The bare workflow plus the saga's search attribute upserts (SagaStep and SagaStatus, as often
 * as the saga changes them on its happy path): isolates what visibility costs on this server.
 */
export async function bareWorkflowWithUpserts(steps: number, upserts: number): Promise<number> {
  for (let i = 0; i < Math.max(steps, upserts); i++) {
    if (i < upserts) {
      upsertSearchAttributes([
        { key: SagaStepAttribute, value: `step-${i}` },
        { key: SagaStatusAttribute, value: i % 2 === 0 ? 'RUNNING' : 'AWAITING_DISPATCH' },
      ]);
    }
    if (i < steps) await noop(i);
  }
  return steps;
}
