import type { Command } from 'commander';
import { formatVerdict, verdict } from '../versioning/canary';
import { buildOutcomes } from '../versioning/outcomes';
import { Rollout } from '../versioning/worker-deployments';
import { WORKFLOW_TYPE } from '../workflows/definitions';
import { act, CliError, EXIT, positiveInt, type Context } from './context';
import { deploymentName } from './rollout';

/**
 * `trapeze canary`: compares the ramping build with the current one (or the two builds given) over
 * the sagas started in the window: promote (0), hold (2) or roll back (3), so a pipeline can gate on it.
 */
export function canaryCommand(program: Command, ctx: Context): void {
  program
    .command('canary')
    .description("the canary verdict: business outcomes of the ramping build against the current one's")
    .option('--baseline <build>', 'the build to compare against (default: current)')
    .option('--canary <build>', 'the build under test (default: the ramping one)')
    .option('--since <minutes>', 'sagas started in the last <minutes>', positiveInt('--since'), 60)
    .option('--stuck-after <minutes>', 'a running saga older than this counts as stuck', positiveInt('--stuck-after'), 24 * 60)
    .option('--min-closed <n>', 'closed sagas the canary needs before a promote', positiveInt('--min-closed'))
    .option('--workflow-type <type>', 'the workflow type compared', WORKFLOW_TYPE)
    .action(
      act(
        ctx,
        async (o: {
          baseline?: string;
          canary?: string;
          since: number;
          stuckAfter: number;
          minClosed?: number;
          workflowType: string;
        }) => {
          const client = await ctx.client();
          const name = deploymentName(ctx);
          const routing = await new Rollout(client.connection, name, ctx.config.temporal.namespace).status();
          const baselineBuild = o.baseline ?? routing.current;
          const canaryBuild = o.canary ?? routing.ramping?.buildId;
          if (!baselineBuild || !canaryBuild)
            throw new CliError(
              `nothing to compare: current=${baselineBuild ?? '-'} ramping=${canaryBuild ?? '-'} (pass --baseline/--canary)`,
              EXIT.hold,
            );
          const common = {
            deploymentName: name,
            workflowType: o.workflowType,
            since: new Date(Date.now() - o.since * 60_000),
            stuckAfterMs: o.stuckAfter * 60_000,
          };
          const baseline = await buildOutcomes(client, { ...common, buildId: baselineBuild });
          const canary = await buildOutcomes(client, { ...common, buildId: canaryBuild });
          const v = verdict(baseline, canary, o.minClosed ? { minClosed: o.minClosed } : {});
          ctx.emit({ baselineBuild, canaryBuild, sinceMinutes: o.since, verdict: v, baseline, canary }, () => [
            `canary ${canaryBuild} against current ${baselineBuild}, sagas started in the last ${o.since} min`,
            formatVerdict(v, { baseline, canary }),
          ]);
          return v.decision === 'promote' ? EXIT.ok : v.decision === 'hold' ? EXIT.hold : EXIT.block;
        },
      ),
    );
}
