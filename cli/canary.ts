import { Client, Connection } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { formatVerdict, verdict } from '../versioning/canary';
import { SAGA_DEPLOYMENT } from '../platform/deployment';
import { buildOutcomes } from '../versioning/outcomes';
import { Rollout } from '../versioning/worker-deployments';

/**
 * `npm run canary -- [--baseline <build>] [--canary <build>] [--since <minutes>] [--stuck-after <minutes>] [--min-closed <n>]`
 * Compares the ramping build with the current one (or the two builds given) over the sagas started
 * in the window and prints promote / hold / roll back with the numbers. Exit code: 0 promote,
 * 2 hold, 3 roll back, so a pipeline can gate on it.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      baseline: { type: 'string' },
      canary: { type: 'string' },
      since: { type: 'string', default: '60' },
      'stuck-after': { type: 'string', default: String(24 * 60) },
      'min-closed': { type: 'string' },
      'workflow-type': { type: 'string', default: 'orderFulfillment' },
    },
  });
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
  try {
    const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
    const deploymentName = process.env.SAGA_DEPLOYMENT_NAME ?? SAGA_DEPLOYMENT;
    const client = new Client({ connection, namespace });
    const routing = await new Rollout(connection, deploymentName, namespace).status();
    const baselineBuild = values.baseline ?? routing.current;
    const canaryBuild = values.canary ?? routing.ramping?.buildId;
    if (!baselineBuild || !canaryBuild) {
      console.error(
        `nothing to compare: current=${baselineBuild ?? '-'} ramping=${canaryBuild ?? '-'} (pass --baseline/--canary)`,
      );
      return 1;
    }
    const common = {
      deploymentName,
      workflowType: values['workflow-type'],
      since: new Date(Date.now() - Number(values.since) * 60_000),
      stuckAfterMs: Number(values['stuck-after']) * 60_000,
    };
    const baseline = await buildOutcomes(client, { ...common, buildId: baselineBuild });
    const canary = await buildOutcomes(client, { ...common, buildId: canaryBuild });
    const v = verdict(baseline, canary, values['min-closed'] ? { minClosed: Number(values['min-closed']) } : {});
    console.log(`canary ${canaryBuild} against current ${baselineBuild}, sagas started in the last ${values.since} min`);
    console.log(formatVerdict(v, { baseline, canary }));
    return v.decision === 'promote' ? 0 : v.decision === 'hold' ? 2 : 3;
  } finally {
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
