import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { migrate, outboxMigrations } from '../platform/migrations';
import {
  acknowledgeFinding,
  listFindings,
  reconciliationMigrations,
  resolveFinding,
  type Finding,
  type FindingState,
  type RunReport,
} from '../reconciliation/findings';
import { rules } from '../reconciliation/rules';
import { reconciliationWorkerPolling, runReconciliation } from '../reconciliation/schedule';
import { act, CliError, EXIT, usageError, type Context } from './context';

/**
 * `trapeze reconcile …`: the operator's side of reconciliation. `run` and `findings list` exit 2
 * while findings for an operator are open (a pipeline or a cron can alert on it); `ack`/`resolve`
 * exit 2 on a finding already closed and 4 on an unknown one.
 */
const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

function findingLines(findings: Finding[]): string[] {
  const lines: string[] = [];
  for (const f of findings) {
    const mark = f.acknowledged ? ` (ack ${f.acknowledged.by})` : '';
    lines.push(`${f.state.padEnd(12)} ${f.handling.padEnd(9)} ${f.id}${mark}`);
    lines.push(`             ${f.summary}; first seen ${when(f.firstSeenAt)}, last ${when(f.lastSeenAt)}`);
    if (f.repaired) lines.push(`             repaired ${when(f.repaired.at)} under ${f.repaired.key}`);
    if (f.resolved) lines.push(`             resolved ${when(f.resolved.at)} by ${f.resolved.by}: ${f.resolved.resolution}`);
  }
  lines.push(`${findings.length} finding(s)`);
  return lines;
}

function reportLines(r: RunReport): string[] {
  return [
    `run ${r.runId}: ${r.rules.length} rule(s) checked`,
    `  found ${r.found.length} new: ${r.found.join(', ') || '-'}`,
    `  repaired ${r.repaired.length}: ${r.repaired.join(', ') || '-'}`,
    `  no longer found ${r.cleared.length}: ${r.cleared.join(', ') || '-'}`,
    `  deferred (saga mid-step) ${r.deferred}; live findings now ${r.findings}`,
  ];
}

const operatorOpen = (findings: Finding[]) =>
  findings.filter((f) => f.handling === 'operator' && (f.state === 'open' || f.state === 'acknowledged'));

export function reconcileCommands(program: Command, ctx: Context): void {
  const group = program.command('reconcile').description('reconciliation: on-demand runs, the findings queue, the rules');
  const db = async () => {
    const d = ctx.database(ctx.config.databaseUrl);
    // The findings live beside the ledgers and the outbox, whose tables they build on.
    await migrate(d, outboxMigrations);
    await migrate(d, reconciliationMigrations);
    return d;
  };
  const by = (o: { by?: string }) => o.by ?? userInfo().username;
  const STATES: readonly FindingState[] = ['open', 'acknowledged', 'repaired', 'resolved'];

  group
    .command('rules')
    .description('the rules, and which ones repair themselves')
    .action(
      act(ctx, () =>
        ctx.emit(
          { rules: rules.map((r) => ({ id: r.id, handling: r.handling, title: r.title, repair: r.repair ?? null })) },
          () => rules.map((r) => `${r.id.padEnd(32)} ${r.handling.padEnd(9)} ${r.title}${r.repair ? ` → ${r.repair}` : ''}`),
        ),
      ),
    );

  group
    .command('run')
    .description('a reconciliation run now; waits for its report and lists the operator queue (exit 2 if not empty)')
    .option('--rule <rule...>', 'only these rules')
    .action(
      act(ctx, async (o: { rule?: string[] }) => {
        const client = await ctx.client();
        const { taskQueue } = ctx.config.reconciliation;
        if (!(await reconciliationWorkerPolling(client, taskQueue)))
          throw new CliError(
            `no reconciliation worker polls ${taskQueue}: start \`npm start\` or \`node --import tsx workers/reconciliation.ts\``,
            EXIT.unavailable,
          );
        const report = await runReconciliation(client, { taskQueue, trigger: 'operator', ...(o.rule ? { rules: o.rule } : {}) });
        const queue = operatorOpen(await listFindings(await db(), { states: ['open', 'acknowledged'] }));
        ctx.emit({ report, operatorQueue: queue }, () => [
          ...reportLines(report),
          ...(queue.length ? ['operator queue:', ...findingLines(queue)] : []),
        ]);
        return queue.length ? EXIT.hold : EXIT.ok;
      }),
    );

  const findings = group.command('findings').description('the findings queue');
  findings
    .command('list', { isDefault: true })
    .description('open and acknowledged findings by default (exit 2 while any is for an operator)')
    .option('--all', 'every state')
    .option('--state <states>', `comma-separated: ${STATES.join(',')}`)
    .option('--rule <rule>', 'only this rule')
    .action(
      act(ctx, async (o: { all?: boolean; state?: string; rule?: string }) => {
        if (o.all && o.state) throw usageError('--all or --state, not both');
        const states = o.all ? [...STATES] : (o.state?.split(',') ?? ['open', 'acknowledged']);
        const bad = states.filter((s) => !(STATES as readonly string[]).includes(s));
        if (bad.length) throw usageError(`unknown state ${bad.join(', ')}: --state takes ${STATES.join(',')}`);
        const found = await listFindings(await db(), {
          states: states as FindingState[],
          ...(o.rule ? { rule: o.rule } : {}),
        });
        ctx.emit({ findings: found }, () => findingLines(found));
        return operatorOpen(found).length ? EXIT.hold : EXIT.ok;
      }),
    );

  const answer = async (id: string, work: Promise<Awaited<ReturnType<typeof acknowledgeFinding>>>) => {
    const a = await work;
    if (!a.ok)
      throw a.reason === 'unknown'
        ? new CliError(`no finding ${id}`, EXIT.notFound)
        : new CliError(`finding ${id} is already ${a.finding?.state}`, EXIT.hold);
    ctx.emit({ finding: a.finding }, () => findingLines([a.finding]));
  };
  findings
    .command('ack')
    .description('the operator is on it (stays in the queue, marked)')
    .argument('<id>')
    .option('--by <name>', 'who (default: your user name)')
    .action(act(ctx, async (id: string, o: { by?: string }) => answer(id, acknowledgeFinding(await db(), id, by(o)))));
  findings
    .command('resolve')
    .description('fixed; found again later, it reopens')
    .argument('<id>')
    .requiredOption('--note <text>', 'what was done')
    .option('--by <name>', 'who (default: your user name)')
    .action(
      act(ctx, async (id: string, o: { by?: string; note: string }) =>
        answer(id, resolveFinding(await db(), id, { by: by(o), resolution: o.note })),
      ),
    );
}
