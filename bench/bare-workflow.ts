import { proxyActivities } from '@temporalio/workflow';

/**
 * The bundle `npm run bench:saga` runs: the order saga as it ships, beside the bare limit it is
 * measured against, a workflow that runs the same number of no-op activities one after another
 * (no ledgers, no outbox, no search attributes, no messages). One worker runs both, so both see
 * the same worker settings on the same server.
 */
export { orderFulfillment } from '../workflows';

const { noop } = proxyActivities<{ noop(step: number): Promise<number> }>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 5 },
});

export async function bareWorkflow(steps: number): Promise<number> {
  for (let i = 0; i < steps; i++) await noop(i);
  return steps;
}
