import type { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { Command } from 'commander';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataConverter } from '../platform/codec/data-converter';
import { verdict as canaryVerdict } from '../versioning/canary';
import { buildOutcomes } from '../versioning/outcomes';
import { repoRoot } from '../versioning/releases';
import { bundleWorkflows, coreMessage, sagaSinks } from '../versioning/replay';
import { Rollout } from '../versioning/worker-deployments';
import { WORKFLOW_TYPE } from '../workflows/definitions';
import { act, EXIT, usageError, type Context } from './context';
import { progress } from './progress';
import { deploymentName } from './rollout';

/**
 * `trapeze gate --candidate <git ref | build id> [--query <visibility filter>] [--offline]`: one deploy
 * verdict for a candidate build, from a checkout of exactly its commit (a build id `<version>-<sha>`
 * names its commit):
 * 1. the patch registry check of the candidate's code and registry,
 * 2. the candidate's replay corpus against the candidate's workflows,
 * 3. the event compatibility check (snapshots of the published schemas, upcasters, consumers' contracts),
 * 4. the sagas open now on the cluster replayed against the candidate, grouped by the build they run on,
 * 5. the canary verdict, when a ramp is running.
 * Exit 0 ship, 2 hold (evidence missing: cluster unreachable, canary still thin), 3 block.
 */
type Outcome = 'ship' | 'hold' | 'block';
interface Check {
  name: string;
  outcome: Outcome;
  detail: string;
}

function commitOf(candidate: string): string {
  const git = (args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: 'pipe' }).trim();
  for (const ref of [candidate, candidate.split('-').at(-1) ?? candidate]) {
    try {
      return git(['rev-parse', '--verify', `${ref}^{commit}`]);
    } catch {
      // not this form: try the build id's commit
    }
  }
  throw usageError(`candidate ${candidate} names no commit of this repository (a git ref, or a build id <version>-<sha>)`);
}

/** A detached worktree of the candidate's commit, sharing this checkout's installed packages. */
function checkout(commit: string): { root: string; remove(): void } {
  const root = join(mkdtempSync(join(tmpdir(), 'trapeze-gate-')), 'candidate');
  execFileSync('git', ['worktree', 'add', '--detach', '--quiet', root, commit], { cwd: repoRoot, stdio: 'pipe' });
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  return {
    root,
    remove: () => {
      execFileSync('git', ['worktree', 'remove', '--force', root], { cwd: repoRoot, stdio: 'pipe' });
      rmSync(join(root, '..'), { recursive: true, force: true });
    },
  };
}

function step(root: string, name: string, script: string, args: string[] = []): Check {
  if (!existsSync(join(root, script))) return { name, outcome: 'hold', detail: `the candidate has no ${script}` };
  const run = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, encoding: 'utf8' });
  const lines = `${run.stdout}${run.stderr}`.trim().split('\n');
  const last = lines.at(-1) ?? '';
  if (run.status === 0) return { name, outcome: 'ship', detail: last };
  return {
    name,
    outcome: 'block',
    detail: lines
      .filter((l) => l.trim())
      .slice(-4)
      .join(' | '),
  };
}

async function liveReplay(
  client: Client,
  workflowsPath: string,
  converter: ReturnType<typeof dataConverter>,
  narrow: string | undefined,
): Promise<Check> {
  const query = `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'${narrow ? ` AND (${narrow})` : ''}`;
  const buildOf = new Map<string, string>();
  for await (const info of client.workflow.list({ query }))
    buildOf.set(info.workflowId, info.raw.versioningInfo?.deploymentVersion?.buildId || 'unversioned');
  const bundle = await bundleWorkflows(workflowsPath);
  const perBuild = new Map<string, { replayed: number; failed: string[] }>();
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: bundle, dataConverter: converter, replayName: 'gate', sinks: sagaSinks() },
    client.workflow.list({ query }).intoHistories(),
  )) {
    const build = buildOf.get(result.workflowId) ?? 'unversioned';
    const row = perBuild.get(build) ?? { replayed: 0, failed: [] };
    row.replayed++;
    if (result.error) row.failed.push(`${result.workflowId}: ${coreMessage(result.error).slice(0, 160)}`);
    perBuild.set(build, row);
  }
  const rows = [...perBuild].map(([build, r]) => `${build}: ${r.replayed - r.failed.length}/${r.replayed} resume`);
  const failed = [...perBuild.values()].flatMap((r) => r.failed);
  return {
    name: 'open sagas on the cluster',
    outcome: failed.length > 0 ? 'block' : 'ship',
    detail: `${rows.join(', ') || 'no open sagas'}${failed.length ? ` | e.g. ${failed[0]}` : ''}`,
  };
}

async function canary(client: Client, namespace: string, deploymentName: string): Promise<Check> {
  const routing = await new Rollout(client.connection, deploymentName, namespace).status().catch(() => undefined);
  if (!routing?.ramping || !routing.current) return { name: 'canary', outcome: 'ship', detail: 'no ramp running' };
  const common = {
    deploymentName,
    workflowType: WORKFLOW_TYPE,
    since: new Date(Date.now() - 3_600_000),
    stuckAfterMs: 86_400_000,
  };
  const v = canaryVerdict(
    await buildOutcomes(client, { ...common, buildId: routing.current }),
    await buildOutcomes(client, { ...common, buildId: routing.ramping.buildId }),
  );
  const outcome = v.decision === 'promote' ? 'ship' : v.decision === 'hold' ? 'hold' : 'block';
  return {
    name: 'canary',
    outcome,
    detail: `${routing.ramping.buildId} vs ${routing.current}: ${v.decision}; ${v.reasons.join('; ')}`,
  };
}

/** The candidate's event check: through its `trapeze` when it has one, its older entry point otherwise. */
function eventCheck(root: string): Check {
  return existsSync(join(root, 'cli/trapeze.ts'))
    ? step(root, 'event compatibility', 'cli/trapeze.ts', ['events', 'check'])
    : step(root, 'event compatibility', 'cli/events.ts', ['check']);
}

export function gateCommand(program: Command, ctx: Context): void {
  program
    .command('gate')
    .description('one deploy verdict for a candidate build: ship (0), hold (2) or block (3)')
    .requiredOption('--candidate <ref>', 'a git ref or a build id <version>-<sha>')
    .option('--query <visibility>', 'narrow the open sagas replayed (a visibility filter)')
    .option('--offline', 'skip the cluster: open sagas and canary are not checked (verdict at best hold)')
    .action(
      act(ctx, async (o: { candidate: string; query?: string; offline?: boolean }) => {
        const commit = commitOf(o.candidate);
        if (!ctx.json) ctx.io.out(`candidate ${o.candidate} = commit ${commit.slice(0, 12)}`);
        const bar = progress(ctx, o.offline ? 3 : 5, 'gate checks');
        const tree = checkout(commit);
        const checks: Check[] = [];
        const add = (c: Check) => {
          checks.push(c);
          bar.tick();
        };
        try {
          add(step(tree.root, 'patch registry', 'versioning/patch-check.ts'));
          add(step(tree.root, 'replay corpus', 'versioning/replay.ts'));
          add(eventCheck(tree.root));
          if (o.offline) checks.push({ name: 'open sagas on the cluster', outcome: 'hold', detail: '--offline: not checked' });
          else {
            const client = await ctx.client().catch((err: unknown) => err as Error);
            if (client instanceof Error) {
              add({ name: 'open sagas on the cluster', outcome: 'hold', detail: client.message });
            } else {
              add(
                await liveReplay(
                  client,
                  require.resolve(join(tree.root, 'workflows')),
                  dataConverter(ctx.config.payloads.keyring),
                  o.query,
                ).catch((err: unknown) => ({
                  name: 'open sagas on the cluster',
                  outcome: 'hold' as const,
                  detail: `could not replay them: ${err instanceof Error ? err.message : String(err)} (PAYLOAD_KEYS for encrypted histories?)`,
                })),
              );
              add(await canary(client, ctx.config.temporal.namespace, deploymentName(ctx)));
            }
          }
        } finally {
          bar.stop();
          tree.remove();
        }
        const worst: Outcome = checks.some((c) => c.outcome === 'block')
          ? 'block'
          : checks.some((c) => c.outcome === 'hold')
            ? 'hold'
            : 'ship';
        ctx.emit({ candidate: o.candidate, commit, checks, verdict: worst }, () => [
          ...checks.map((c) => `${c.outcome.padEnd(5)}  ${c.name.padEnd(26)} ${c.detail}`),
          `gate: ${worst}`,
        ]);
        return worst === 'ship' ? EXIT.ok : worst === 'hold' ? EXIT.hold : EXIT.block;
      }),
    );
}
