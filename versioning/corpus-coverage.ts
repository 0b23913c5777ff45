import { WorkflowCoverage } from '@temporalio/nyc-test-coverage';
import type { History } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createCoverageMap, type CoverageMapData, type FileCoverageData } from 'istanbul-lib-coverage';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { SourceMapConsumer, type RawSourceMap } from 'source-map';
import ts from 'typescript';
import { dataConverter } from '../platform/codec/data-converter';
import { PayloadEnvironment } from '../platform/codec/settings';
import { repoRoot } from './releases';
import { workflowInterceptorModules } from '../platform/deployment';
import { corpus, loadHistory, sagaSinks, sagaWorkflowsPath, type CorpusEntry } from './replay';
import { awaitingScenario, unreachable } from './unreachable-branches';

/**
 * Which branches of workflows/ the replay corpus executes (`npm run corpus:coverage`). The saga is
 * bundled once with istanbul instrumentation (@temporalio/nyc-test-coverage's webpack rule and
 * workflow interceptor) and every history is replayed; the interceptor hands each activation's
 * counters to a sink that, unlike the package's own, is called during replay. A branch no history
 * takes is a path whose sagas a deploy could strand unnoticed: capture a scenario that takes it, or
 * list it in versioning/unreachable-branches.ts with the reason no real saga can.
 */
export interface Branch {
  /** Stable across edits elsewhere: file, the source line's text, the branch kind and arm. */
  key: string;
  file: string;
  line: number;
  covered: boolean;
}

const quiet = new DefaultLogger('ERROR');

export async function corpusCoverage(entries: readonly CorpusEntry[] = corpus()): Promise<Branch[]> {
  // The package instruments only when a coverage global exists (as under nyc); this process is its own nyc.
  const g = globalThis as { __coverage__?: CoverageMapData };
  g.__coverage__ ??= {};
  const wc = new WorkflowCoverage();
  // With the interceptors the worker bundles (tracing's yields are recorded in histories as SDK
  // flags): without them a history captured by a real worker does not replay.
  const workflowsPath = sagaWorkflowsPath();
  const workflowBundle = await bundleWorkflowCode(
    wc.augmentBundleOptions({
      workflowsPath,
      workflowInterceptorModules: workflowInterceptorModules(workflowsPath),
      logger: quiet,
    }),
  );
  const collected: CoverageMapData[] = [];
  const histories: { workflowId: string; history: History }[] = entries.map((e, i) => ({
    workflowId: `coverage-${i}`,
    history: loadHistory(e.file),
  }));
  for await (const result of Worker.runReplayHistories(
    {
      workflowBundle,
      replayName: 'coverage',
      dataConverter: dataConverter(PayloadEnvironment.parse(process.env).PAYLOAD_KEYS),
      sinks: {
        ...sagaSinks(),
        coverage: { merge: { fn: (_info: unknown, data: CoverageMapData) => void collected.push(data), callDuringReplay: true } },
      },
    },
    histories,
  )) {
    if (result.error) throw new Error(`${result.workflowId} does not replay on the current code: ${result.error.message}`);
  }
  const map = createCoverageMap({});
  for (const data of collected) map.merge(data);
  const branches: Branch[] = [];
  for (const path of map.files().sort()) {
    const file = relative(repoRoot, path);
    if (!file.startsWith('workflows/')) continue;
    branches.push(...(await branchesOf(file, map.fileCoverageFor(path).data)));
  }
  return branches;
}

/** The branch arms of one file, placed on the TypeScript source through the bundle's source map. */
async function branchesOf(file: string, data: FileCoverageData): Promise<Branch[]> {
  const lines = readFileSync(`${repoRoot}/${file}`, 'utf8').split('\n');
  const raw = (data as FileCoverageData & { inputSourceMap?: RawSourceMap }).inputSourceMap;
  const out: Branch[] = [];
  const seen = new Map<string, number>();
  const branchLines = branchingLines(file, lines.join('\n'));
  const collect = (consumer: SourceMapConsumer) => {
    for (const [id, branch] of Object.entries(data.branchMap)) {
      const counts = data.b[id] ?? [];
      // The transpiler's helpers (async, interop) branch too, but on no line of the saga's source.
      const at = { line: branch.loc.start.line, column: branch.loc.start.column };
      const line =
        consumer.originalPositionFor(at).line ??
        consumer.originalPositionFor({ ...at, bias: SourceMapConsumer.LEAST_UPPER_BOUND }).line;
      if (line === null || !branchLines.has(line)) continue;
      branch.locations.forEach((_location, arm) => {
        const text = (lines[line - 1] ?? '').trim();
        const base = `${file}: ${text} (${branch.type} ${arm + 1}/${branch.locations.length})`;
        const n = (seen.get(base) ?? 0) + 1;
        seen.set(base, n);
        out.push({ key: n > 1 ? `${base} #${n}` : base, file, line, covered: (counts[arm] ?? 0) > 0 });
      });
    }
  };
  if (!raw) throw new Error(`${file}: the instrumented bundle carries no source map`);
  await SourceMapConsumer.with(raw, null, (consumer) => collect(consumer));
  return out;
}

/** Lines of the TypeScript source where a branch starts: if, ?:, &&, ||, ??, ?., defaults, switch. */
function branchingLines(file: string, source: string): Set<number> {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true);
  const lines = new Set<number>();
  const logical = new Set([
    ts.SyntaxKind.AmpersandAmpersandToken,
    ts.SyntaxKind.BarBarToken,
    ts.SyntaxKind.QuestionQuestionToken,
    ts.SyntaxKind.QuestionQuestionEqualsToken,
    ts.SyntaxKind.BarBarEqualsToken,
    ts.SyntaxKind.AmpersandAmpersandEqualsToken,
  ]);
  const visit = (n: ts.Node) => {
    const branches =
      ts.isIfStatement(n) ||
      ts.isConditionalExpression(n) ||
      ts.isSwitchStatement(n) ||
      (ts.isBinaryExpression(n) && logical.has(n.operatorToken.kind)) ||
      (ts.isParameter(n) && n.initializer !== undefined) ||
      ((ts.isPropertyAccessExpression(n) || ts.isCallExpression(n) || ts.isElementAccessExpression(n)) && n.questionDotToken);
    if (branches) {
      const from = sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
      const to = sf.getLineAndCharacterOfPosition(n.getEnd()).line + 1;
      for (let l = from; l <= to; l++) lines.add(l);
    }
    n.forEachChild(visit);
  };
  visit(sf);
  return lines;
}

export interface CoverageVerdict {
  covered: number;
  total: number;
  problems: string[];
}

export function judgeCoverage(
  branches: readonly Branch[],
  listed: Readonly<Record<string, string>> = unreachable,
  awaiting: Readonly<Record<string, string>> = awaitingScenario,
): CoverageVerdict {
  const problems: string[] = [];
  for (const b of branches) {
    if (!b.covered && !listed[b.key] && !awaiting[b.key])
      problems.push(`uncovered: ${b.key} (line ${b.line}): capture a scenario that takes it, or list it with the reason`);
    if (b.covered && (listed[b.key] || awaiting[b.key]))
      problems.push(`covered now: ${b.key}: remove it from versioning/unreachable-branches.ts`);
  }
  const keys = new Set(branches.map((b) => b.key));
  for (const key of [...Object.keys(listed), ...Object.keys(awaiting)])
    if (!keys.has(key)) problems.push(`versioning/unreachable-branches.ts lists "${key}", which is no longer a branch`);
  return { covered: branches.filter((b) => b.covered).length, total: branches.length, problems };
}

async function main(): Promise<number> {
  const entries = corpus();
  const began = Date.now();
  const branches = await corpusCoverage(entries);
  const files = [...new Set(branches.map((b) => b.file))];
  console.log(`${'file'.padEnd(34)} ${'branches'.padStart(9)} ${'covered'.padStart(8)}  unreachable  awaiting a scenario`);
  for (const file of files) {
    const of = branches.filter((b) => b.file === file);
    const covered = of.filter((b) => b.covered).length;
    const listed = of.filter((b) => !b.covered && unreachable[b.key]).length;
    const awaiting = of.filter((b) => !b.covered && awaitingScenario[b.key]).length;
    const pct = of.length ? `${((100 * covered) / of.length).toFixed(0)}%` : '-';
    console.log(
      `${file.padEnd(34)} ${`${covered}/${of.length}`.padStart(9)} ${pct.padStart(8)}  ${String(listed).padStart(11)}  ${awaiting}`,
    );
  }
  const verdict = judgeCoverage(branches);
  for (const b of branches.filter((x) => !x.covered && unreachable[x.key]))
    console.log(`unreachable: ${b.key}: ${unreachable[b.key]}`);
  const waiting = branches.filter((x) => !x.covered && awaitingScenario[x.key]);
  for (const b of waiting) console.log(`awaiting a scenario: ${b.key}: ${awaitingScenario[b.key]}`);
  for (const p of verdict.problems) console.log(`problem: ${p}`);
  console.log(`${waiting.length} reachable branches await a scenario (listed in versioning/unreachable-branches.ts)`);
  console.log(`${entries.length} histories, ${((Date.now() - began) / 1000).toFixed(1)} s`);
  console.log(`corpus branch coverage: ${verdict.covered}/${verdict.total}`);
  return verdict.problems.length === 0 ? 0 : 1;
}

if (require.main === module) {
  Runtime.install({ logger: quiet, telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
