import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dataConverter } from '../platform/codec/data-converter';
import { readConfig } from '../platform/config';
import { SAGA_DEPLOYMENT } from '../platform/deployment';
import { verdict as canaryVerdict } from '../versioning/canary';
import { buildOutcomes } from '../versioning/outcomes';
import { repoRoot } from '../versioning/releases';
import { bundleWorkflows, coreMessage, sagaSinks } from '../versioning/replay';
import { Rollout } from '../versioning/worker-deployments';
import { WORKFLOW_TYPE } from '../workflows/definitions';

/**
 * `npm run gate -- --candidate <git ref | build id> [--query <visibility filter>] [--offline]`: one deploy verdict for a candidate
 * build, from a checkout of exactly its commit (a build id `<version>-<sha>` names its commit):
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
  throw new Error(`candidate ${candidate} names no commit of this repository (a git ref, or a build id <version>-<sha>)`);
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

async function canary(connection: Connection, client: Client, namespace: string): Promise<Check> {
  const deploymentName = process.env.SAGA_DEPLOYMENT_NAME ?? SAGA_DEPLOYMENT;
  const routing = await new Rollout(connection, deploymentName, namespace).status().catch(() => undefined);
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

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { candidate: { type: 'string' }, offline: { type: 'boolean', default: false }, query: { type: 'string' } },
  });
  if (!values.candidate) {
    console.error('usage: npm run gate -- --candidate <git ref | build id> [--offline]');
    return 3;
  }
  const commit = commitOf(values.candidate);
  console.log(`candidate ${values.candidate} = commit ${commit.slice(0, 12)}`);
  const tree = checkout(commit);
  const checks: Check[] = [];
  try {
    checks.push(step(tree.root, 'patch registry', 'versioning/patch-check.ts'));
    checks.push(step(tree.root, 'replay corpus', 'versioning/replay.ts'));
    checks.push(step(tree.root, 'event compatibility', 'cli/events.ts', ['check']));
    if (values.offline) checks.push({ name: 'open sagas on the cluster', outcome: 'hold', detail: '--offline: not checked' });
    else {
      const config = readConfig();
      const connection = await Connection.connect({ address: config.temporal.address }).catch((err: unknown) => err as Error);
      if (connection instanceof Error) {
        checks.push({ name: 'open sagas on the cluster', outcome: 'hold', detail: `cluster unreachable: ${connection.message}` });
      } else {
        try {
          const client = new Client({ connection, namespace: config.temporal.namespace });
          checks.push(
            await liveReplay(
              client,
              require.resolve(join(tree.root, 'workflows')),
              dataConverter(config.payloads.keyring),
              values.query,
            ).catch((err: unknown) => ({
              name: 'open sagas on the cluster',
              outcome: 'hold' as const,
              detail: `could not replay them: ${err instanceof Error ? err.message : String(err)} (PAYLOAD_KEYS for encrypted histories?)`,
            })),
          );
          checks.push(await canary(connection, client, config.temporal.namespace));
        } finally {
          await connection.close();
        }
      }
    }
  } finally {
    tree.remove();
  }
  for (const c of checks) console.log(`${c.outcome.padEnd(5)}  ${c.name.padEnd(26)} ${c.detail}`);
  const worst: Outcome = checks.some((c) => c.outcome === 'block')
    ? 'block'
    : checks.some((c) => c.outcome === 'hold')
      ? 'hold'
      : 'ship';
  console.log(`gate: ${worst}`);
  return worst === 'ship' ? 0 : worst === 'hold' ? 2 : 3;
}

Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
});
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(3);
  },
);
