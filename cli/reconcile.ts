import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { connectClient } from '../api/connect';
import { readConfig } from '../platform/config';
import { openDatabase } from '../platform/database';
import { migrate } from '../platform/migrations';
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
import { runCommand } from '../infra/command';

/**
 * `npm run reconcile -- <command>`: the operator's side of reconciliation.
 *
 *   run [--rule R …]                      an on-demand run now (needs the reconciliation worker: npm start or workers/reconciliation.ts)
 *   findings [--all | --state S,…] [--rule R] [--json]   the queue: open and acknowledged findings by default
 *   ack <id> [--by NAME]                  the operator is on it (stays in the queue, marked)
 *   resolve <id> --note "what was done" [--by NAME]   fixed; found again later, it reopens
 *   rules                                 the rules, and which ones repair themselves
 *
 * Exit codes: 0 done (for `run` and `findings`: and nothing open for an operator), 1 error or
 * usage, 2 operator findings open (run, findings) or the finding is already closed (ack, resolve),
 * 3 unknown finding.
 */
const USAGE = `usage: npm run reconcile -- <command>
  run [--rule R …]
  findings [--all | --state open,acknowledged,repaired,resolved] [--rule R] [--json]
  ack <id> [--by NAME]
  resolve <id> --note "what was done" [--by NAME]
  rules`;

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

function printFindings(findings: Finding[]): void {
  for (const f of findings) {
    const mark = f.acknowledged ? ` (ack ${f.acknowledged.by})` : '';
    console.log(`${f.state.padEnd(12)} ${f.handling.padEnd(9)} ${f.id}${mark}`);
    console.log(`             ${f.summary}; first seen ${when(f.firstSeenAt)}, last ${when(f.lastSeenAt)}`);
    if (f.repaired) console.log(`             repaired ${when(f.repaired.at)} under ${f.repaired.key}`);
    if (f.resolved) console.log(`             resolved ${when(f.resolved.at)} by ${f.resolved.by}: ${f.resolved.resolution}`);
  }
  console.log(`${findings.length} finding(s)`);
}

function printReport(r: RunReport): void {
  console.log(`run ${r.runId}: ${r.rules.length} rule(s) checked`);
  console.log(`  found ${r.found.length} new: ${r.found.join(', ') || '-'}`);
  console.log(`  repaired ${r.repaired.length}: ${r.repaired.join(', ') || '-'}`);
  console.log(`  no longer found ${r.cleared.length}: ${r.cleared.join(', ') || '-'}`);
  console.log(`  deferred (saga mid-step) ${r.deferred}; live findings now ${r.findings}`);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rule: { type: 'string', multiple: true },
      state: { type: 'string' },
      all: { type: 'boolean' },
      json: { type: 'boolean' },
      by: { type: 'string' },
      note: { type: 'string' },
    },
  });
  const [command, id] = positionals;
  const config = readConfig();
  const by = values.by ?? userInfo().username;

  if (command === 'rules') {
    for (const r of rules)
      console.log(`${r.id.padEnd(32)} ${r.handling.padEnd(9)} ${r.title}${r.repair ? ` → ${r.repair}` : ''}`);
    return 0;
  }
  if (command === 'run') {
    const client = await connectClient({ ...config.temporal, keyring: config.payloads.keyring });
    try {
      const { taskQueue } = config.reconciliation;
      if (!(await reconciliationWorkerPolling(client, taskQueue))) {
        console.error(
          `no reconciliation worker polls ${taskQueue}: start npm start or node --import tsx workers/reconciliation.ts`,
        );
        return 1;
      }
      const report = await runReconciliation(client, {
        taskQueue,
        trigger: 'operator',
        ...(values.rule ? { rules: values.rule } : {}),
      });
      printReport(report);
    } finally {
      await client.connection.close();
    }
  } else if (!['findings', 'ack', 'resolve'].includes(command ?? '')) {
    console.error(USAGE);
    return 1;
  }

  const db = openDatabase(config.databaseUrl);
  try {
    await migrate(db, reconciliationMigrations);
    if (command === 'ack' || command === 'resolve') {
      if (!id || (command === 'resolve' && !values.note)) {
        console.error(USAGE);
        return 1;
      }
      const answer =
        command === 'ack'
          ? await acknowledgeFinding(db, id, by)
          : await resolveFinding(db, id, { by, resolution: values.note ?? '' });
      if (!answer.ok) {
        console.error(answer.reason === 'unknown' ? `no finding ${id}` : `finding ${id} is already ${answer.finding?.state}`);
        return answer.reason === 'unknown' ? 3 : 2;
      }
      printFindings([answer.finding]);
      return 0;
    }
    const states: FindingState[] = values.all
      ? ['open', 'acknowledged', 'repaired', 'resolved']
      : ((values.state?.split(',') ?? ['open', 'acknowledged']) as FindingState[]);
    const findings = await listFindings(db, { states, ...(values.rule?.[0] ? { rule: values.rule[0] } : {}) });
    if (values.json) console.log(JSON.stringify(findings, null, 2));
    else if (command === 'findings') printFindings(findings);
    const operatorOpen = findings.filter((f) => f.handling === 'operator' && (f.state === 'open' || f.state === 'acknowledged'));
    if (command === 'run' && operatorOpen.length > 0) {
      console.log('operator queue:');
      printFindings(operatorOpen);
    }
    return operatorOpen.length > 0 ? 2 : 0;
  } finally {
    await db.close();
  }
}

runCommand('reconcile', () => main(process.argv.slice(2)));
