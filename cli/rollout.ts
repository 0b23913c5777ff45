import type { Command } from 'commander';
import { SAGA_DEPLOYMENT } from '../platform/deployment';
import { formatDeployment, Rollout } from '../versioning/worker-deployments';
import { act, usageError, type Context } from './context';

/**
 * `trapeze rollout status|ramp|promote|rollback`: routing of new sagas between saga worker builds.
 * TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE pick the cluster; SAGA_DEPLOYMENT_NAME another deployment.
 */
export const deploymentName = (ctx: Context) => ctx.env.SAGA_DEPLOYMENT_NAME ?? SAGA_DEPLOYMENT;

export function rolloutCommands(program: Command, ctx: Context): void {
  const group = program.command('rollout').description('worker deployment routing: ramp, promote, roll back, drainage');
  const rollout = async () => new Rollout((await ctx.client()).connection, deploymentName(ctx), ctx.config.temporal.namespace);
  const report = async (r: Rollout, done?: string) => {
    const view = await r.status();
    ctx.emit({ ...(done ? { done } : {}), deployment: view }, () => [...(done ? [done] : []), formatDeployment(view)]);
  };

  group
    .command('status')
    .description('current and ramping builds, and which builds still have sagas running (drainage)')
    .action(act(ctx, async () => report(await rollout())));
  group
    .command('ramp')
    .description('sends <percent> of new sagas to <buildId>')
    .argument('<buildId>')
    .argument('<percent>', '0 to 100', (v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n > 100) throw usageError('<percent> is a number from 0 to 100');
      return n;
    })
    .action(
      act(ctx, async (buildId: string, percent: number) => {
        const r = await rollout();
        await r.ramp(buildId, percent);
        await report(r, `ramping ${buildId} at ${percent}% of new sagas`);
      }),
    );
  group
    .command('promote')
    .description('makes <buildId> current: every new saga starts on it')
    .argument('<buildId>')
    .action(
      act(ctx, async (buildId: string) => {
        const r = await rollout();
        await r.promote(buildId);
        await report(r, `promoted ${buildId} to current`);
      }),
    );
  group
    .command('rollback')
    .description('stops the ramp, or makes the previous build current again')
    .action(
      act(ctx, async () => {
        const r = await rollout();
        const done = await r.rollback();
        await report(r, done.action === 'unramped' ? `stopped ramping ${done.buildId}` : `current is ${done.buildId} again`);
      }),
    );
}
