import { DefaultLogger, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { bundleWorkflows as bundleWorkerCode } from '../platform/deployment';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, relative } from 'node:path';
import { sagaSinks } from '../workers/saga-metrics';
import {
  replayFiles,
  replayQueue,
  sinkNames,
  startReplayThread,
  withoutStackTraceHooks,
  withoutWatchdogThreads,
  loadHistory,
  type ReplayResult,
  type ReplayThread,
} from './replay-thread';

export { loadHistory, withoutStackTraceHooks, withoutWatchdogThreads };

/** The sinks every saga bundle calls (no-ops here: a replay drops their calls). */
export { sagaSinks };

/**
 * The replay corpus: histories of real saga runs, per release, under versioning/histories/<release>/.
 * Replaying one against the current workflow code re-runs the code over the recorded events with
 * no server; a change that would issue different commands than the history holds is reported as
 * nondeterminism, naming the history file and the event.
 */
export const corpusRoot = join(__dirname, 'histories');

/**
 * Folders of releases whose sagas have all drained, moved out of the corpus when a release could no
 * longer replay them (1.0, when 1.5 deprecated fraud-screening). Nothing replays them against the
 * current code; the patch lifecycle test still reads them to prove why they had to go.
 */
export const retiredRoot = join(corpusRoot, 'retired');

export interface CorpusEntry {
  release: string;
  scenario: string;
  file: string;
}

/** Every history file, ordered by release then scenario. */
export function corpus(root = corpusRoot): CorpusEntry[] {
  if (!existsSync(root)) return [];
  const entries: CorpusEntry[] = [];
  // Only release folders (major.minor): retired/ sits beside them and is no part of the corpus.
  for (const release of readdirSync(root)
    .filter((name) => /^\d+\.\d+$/.test(name))
    .sort(compareReleases)) {
    const dir = join(root, release);
    for (const name of readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .sort()) {
      entries.push({ release, scenario: basename(name, '.json'), file: join(dir, name) });
    }
  }
  return entries;
}

function compareReleases(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return a.localeCompare(b);
}

export interface ReplayOutcome {
  entry: CorpusEntry;
  /** Undefined when the history replayed cleanly. */
  error?: string;
}

const quiet = new DefaultLogger('ERROR');

export async function bundleWorkflows(workflowsPath: string): Promise<WorkflowBundle> {
  return bundleWorkerCode(workflowsPath);
}

/** One replay thread per core beside this one, at most one more (the corpus is small). */
export const defaultReplayThreads = () => Math.max(0, Math.min(2, availableParallelism()) - 1);

/** Threads to replay a corpus with, started early so that they load while the saga is bundled. */
export const startReplayThreads = (count = defaultReplayThreads()): ReplayThread[] =>
  Array.from({ length: count }, (_, i) => startReplayThread(`corpus-${i + 1}`));

/**
 * Replays every entry against one bundle of workflow code, built once. This thread and `threads`
 * worker threads (by default one per further core) each run one replay worker and take the next
 * history from one shared queue, parsing it themselves: workflow code runs on the thread of its
 * replay worker, so only threads put several cores to work (two replay workers in one thread kept
 * one core busy: CPU time equal to wall time). Each history gets its own workflow id (release and
 * scenario), so runs of one saga (a run and the run it continued as new) are replayed as distinct
 * workflows. The threads are used once and stopped. A history exported from a server that encrypts
 * payloads replays with PAYLOAD_KEYS set (each thread reads it); plain ones need no key.
 */
export async function replayCorpus(
  workflowBundle: WorkflowBundle,
  entries: CorpusEntry[],
  repoRoot = join(__dirname, '..'),
  threads: ReplayThread[] = startReplayThreads(),
): Promise<ReplayOutcome[]> {
  const byId = new Map<string, CorpusEntry>(entries.map((entry) => [`replay-${entry.release}-${entry.scenario}`, entry]));
  // Largest first: the long replays start early and the short ones even out the end.
  const queue = replayQueue(
    [...byId]
      .map(([workflowId, entry]) => ({ workflowId, file: entry.file, size: statSync(entry.file).size }))
      .sort((a, b) => b.size - a.size)
      .map(({ workflowId, file }) => ({ workflowId, file })),
  );
  const outcomes = new Map<CorpusEntry, ReplayOutcome>();
  const record = (result: ReplayResult) => {
    const entry = byId.get(result.workflowId);
    if (!entry) throw new Error(`replay returned an unknown workflow id ${result.workflowId}`);
    outcomes.set(entry, result.error ? { entry, error: describe(entry, result.error, repoRoot) } : { entry });
  };
  try {
    await Promise.all([
      (async () => {
        for await (const result of replayFiles(workflowBundle, queue, 'corpus-0', sagaSinks())) record(result);
      })(),
      ...threads.map(async (thread) => (await thread.replay(workflowBundle, queue, sinkNames(sagaSinks()))).forEach(record)),
    ]);
  } finally {
    await Promise.all(threads.map((t) => t.stop()));
  }
  return entries.flatMap((e) => outcomes.get(e) ?? []);
}

function describe(entry: CorpusEntry, error: { name: string; message: string }, repoRoot: string): string {
  // Core wraps the useful line ("[TMPRL1100] Nondeterminism error: … HistoryEvent(id: 9, …)") in a
  // debug dump of the failure; lift it out so the report names the event in one line.
  const core = coreMessage(error);
  return `${relative(repoRoot, entry.file)}: ${error.name}${eventOf(entry, core)}: ${core}`;
}

export function coreMessage(error: { message: string }): string {
  return /message: "((?:[^"\\]|\\.)*)"/.exec(error.message)?.[1] ?? error.message;
}

/** ` at event <id> (<type>)`, from core's message or, when it names only an activity type, from the history. */
function eventOf(entry: CorpusEntry, message: string): string {
  const named = /HistoryEvent\(id: (\d+), (\w+)/.exec(message);
  if (named) return ` at event ${named[1]} (${named[2]})`;
  const activity = /scheduled event '([^']+)'/.exec(message)?.[1];
  if (!activity) return '';
  const scheduled = loadHistory(entry.file).events?.find(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity,
  );
  return scheduled ? ` at event ${String(scheduled.eventId)} (ActivityTaskScheduled ${activity})` : '';
}

/** The line the corpus replay ends with. */
export const replaySpeedLine = (histories: number, seconds: number, bundling: number) =>
  `replayed ${histories} histories in ${seconds.toFixed(2)} s (${Math.round(histories / seconds)} histories/s) after bundling in ${bundling.toFixed(1)} s`;

/** The module that exports the saga workflows, as workers load it. */
export const sagaWorkflowsPath = (repoRoot = join(__dirname, '..')) => require.resolve(join(repoRoot, 'workflows'));

async function main(): Promise<number> {
  const entries = corpus();
  let began = Date.now();
  // The replay threads load the SDK while this thread bundles the saga.
  const threads = startReplayThreads();
  const bundle = await bundleWorkflows(sagaWorkflowsPath());
  const bundling = (Date.now() - began) / 1000;
  began = Date.now();
  const cpu = process.cpuUsage();
  const outcomes = await replayCorpus(bundle, entries, undefined, threads);
  const seconds = (Date.now() - began) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  const failed = outcomes.filter((o) => o.error);
  for (const o of failed) console.log(o.error);
  // CPU time beside wall time: on a shared, loaded machine the wall time measures the neighbours.
  console.log(`corpus replay: ${failed.length} failed, ${((user + system) / 1e6).toFixed(2)} s of CPU`);
  console.log(replaySpeedLine(outcomes.length, seconds, bundling));
  return failed.length === 0 ? 0 : 1;
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
