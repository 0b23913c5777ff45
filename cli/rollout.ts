import { Connection } from '@temporalio/client';
import { formatDeployment, Rollout } from '../versioning/worker-deployments';
import { SAGA_DEPLOYMENT } from '../platform/deployment';

/**
 * Operator rollout of saga worker builds:
 *   npm run rollout -- status
 *   npm run rollout -- ramp <buildId> <percent>
 *   npm run rollout -- promote <buildId>
 *   npm run rollout -- rollback
 * TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE pick the cluster; SAGA_DEPLOYMENT_NAME another deployment.
 */
const usage = 'usage: npm run rollout -- status | ramp <buildId> <percent> | promote <buildId> | rollback';

async function main(args: string[]): Promise<void> {
  const [verb, ...rest] = args;
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
  const rollout = new Rollout(
    connection,
    process.env.SAGA_DEPLOYMENT_NAME ?? SAGA_DEPLOYMENT,
    process.env.TEMPORAL_NAMESPACE ?? 'default',
  );
  try {
    switch (verb) {
      case 'status':
        break;
      case 'ramp': {
        const [buildId, percent] = rest;
        if (!buildId || percent === undefined || Number.isNaN(Number(percent))) throw new Error(usage);
        await rollout.ramp(buildId, Number(percent));
        console.log(`ramping ${buildId} at ${Number(percent)}% of new sagas`);
        break;
      }
      case 'promote': {
        const [buildId] = rest;
        if (!buildId) throw new Error(usage);
        await rollout.promote(buildId);
        console.log(`promoted ${buildId} to current`);
        break;
      }
      case 'rollback': {
        const done = await rollout.rollback();
        console.log(done.action === 'unramped' ? `stopped ramping ${done.buildId}` : `current is ${done.buildId} again`);
        break;
      }
      default:
        throw new Error(usage);
    }
    console.log(formatDeployment(await rollout.status()));
  } finally {
    await connection.close();
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
