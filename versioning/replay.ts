import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { globalHandlers } from '@temporalio/worker/lib/workflow/vm-shared';
import { bundleWorkflows as bundleWorkerCode } from '../platform/deployment';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Script, type RunningScriptOptions } from 'node:vm';
import { basename, join, relative } from 'node:path';
import { dataConverter } from '../platform/codec/data-converter';
import type { Keyring } from '../platform/codec/keyring';
import { PayloadEnvironment } from '../platform/codec/settings';
import { sagaSinks } from '../workers/saga-metrics';

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

/**
 * Loads a history in the proto3 JSON form both `temporal workflow show --output json` and
 * `historyToJSON(handle.fetchHistory())` write.
 */
export function loadHistory(file: string): History {
  return historyFromJSON(JSON.parse(readFileSync(file, 'utf8')));
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

/**
 * Replay workers run workflow code on this thread (the SDK's debug mode), where the SDK installs a
 * promise hook that captures and source-maps a stack trace for every promise the saga creates, so
 * that a running workflow can answer the `__stack_trace` query. Nobody queries a replay, and the hook
 * was a third of the corpus replay's CPU time (profiled: 5.7 s → 3.9 s CPU for 103 histories).
 * Installing the SDK's handlers and uninstalling them again, marked installed, keeps the SDK from
 * installing them for the replay workers of this process; replay results do not depend on them (a
 * nondeterminism error is core's message, not a stack). Real workers run their workflows in worker
 * threads with their own hooks, untouched by this.
 */
export function withoutStackTraceHooks(): void {
  if (globalHandlers.installed) return;
  globalHandlers.install();
  globalHandlers.uninstall();
  globalHandlers.installed = true;
}

/**
 * Replay workers call into the sandbox with the debug mode's execution timeout, 2^32-1 ms (49 days:
 * none), and Node starts a watchdog thread for every `runInContext` given any timeout: thousands of
 * calls per corpus, 0.7 s of its 3 s (measured). Dropping that one value from the options makes no
 * difference but the cost; a real worker's timeout (5 s, in its worker threads) is left as it is.
 */
const debugModeTimeoutMs = 4_294_967_295;
let watchdogsDropped = false;
export function withoutWatchdogThreads(): void {
  if (watchdogsDropped) return;
  watchdogsDropped = true;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the script as `this`
  const run = Script.prototype.runInContext;
  Script.prototype.runInContext = function (
    this: Script,
    context: Parameters<Script['runInContext']>[0],
    options?: RunningScriptOptions,
  ): unknown {
    return run.call(this, context, options?.timeout === debugModeTimeoutMs ? { ...options, timeout: undefined } : options);
  };
}

/**
 * Replays every entry against one bundle of workflow code. The bundle is built once; the histories
 * are dealt round-robin to `workers` replay workers running side by side (one per core by default).
 * Each history gets its own workflow id (release and scenario), so runs of one saga (a run and the
 * run it continued as new) are replayed as distinct workflows in one worker's cache.
 * A history exported from a server that encrypts payloads replays with PAYLOAD_KEYS set; plain ones need no key.
 */
export async function replayCorpus(
  workflowBundle: WorkflowBundle,
  entries: CorpusEntry[],
  repoRoot = join(__dirname, '..'),
  keyring: Keyring | undefined = PayloadEnvironment.parse(process.env).PAYLOAD_KEYS,
  workers = Math.max(1, Math.min(2, availableParallelism())),
): Promise<ReplayOutcome[]> {
  const byId = new Map<string, CorpusEntry>(entries.map((entry) => [`replay-${entry.release}-${entry.scenario}`, entry]));
  const ids = [...byId].map(([workflowId, entry]) => ({ workflowId, file: entry.file }));
  const outcomes = new Map<CorpusEntry, ReplayOutcome>();
  const converter = dataConverter(keyring);
  withoutStackTraceHooks();
  withoutWatchdogThreads();
  // Each history is read when its worker asks for it: parsing overlaps the other worker's replay.
  function* share(w: number) {
    for (const [i, { workflowId, file }] of ids.entries())
      if (i % workers === w) yield { workflowId, history: loadHistory(file) };
  }
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for await (const result of Worker.runReplayHistories(
        { workflowBundle, replayName: `corpus-${w}`, dataConverter: converter, sinks: sagaSinks() },
        share(w),
      )) {
        const entry = byId.get(result.workflowId);
        if (!entry) throw new Error(`replay returned an unknown workflow id ${result.workflowId}`);
        outcomes.set(entry, result.error ? { entry, error: describe(entry, result.error, repoRoot) } : { entry });
      }
    }),
  );
  return entries.flatMap((e) => outcomes.get(e) ?? []);
}

function describe(entry: CorpusEntry, error: Error, repoRoot: string): string {
  // Core wraps the useful line ("[TMPRL1100] Nondeterminism error: … HistoryEvent(id: 9, …)") in a
  // debug dump of the failure; lift it out so the report names the event in one line.
  const core = coreMessage(error);
  return `${relative(repoRoot, entry.file)}: ${error.name}${eventOf(entry, core)}: ${core}`;
}

export function coreMessage(error: Error): string {
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
  const bundle = await bundleWorkflows(sagaWorkflowsPath());
  const bundling = (Date.now() - began) / 1000;
  began = Date.now();
  const cpu = process.cpuUsage();
  const outcomes = await replayCorpus(bundle, entries);
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
