import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker, type InjectedSinks, type WorkflowBundle } from '@temporalio/worker';
import { globalHandlers } from '@temporalio/worker/lib/workflow/vm-shared';
import type { Sinks } from '@temporalio/workflow';
import { readFileSync } from 'node:fs';
import { Script, type RunningScriptOptions } from 'node:vm';
import { isMainThread, parentPort, Worker as Thread, workerData } from 'node:worker_threads';
import { dataConverter } from '../platform/codec/data-converter';
import { PayloadEnvironment } from '../platform/codec/settings';

/**
 * One share of a corpus replay, run on this thread or on a worker thread of its own. Replay workers
 * run workflow code on the thread that created them (the SDK's debug mode), so two replay workers
 * in one thread only overlap core's work with the JavaScript; a second thread is what puts the
 * second core to work (measured: 4.2 s on one thread, see the README's measured numbers).
 */
/**
 * Loads a history in the proto3 JSON form both `temporal workflow show --output json` and
 * `historyToJSON(handle.fetchHistory())` write.
 */
export function loadHistory(file: string): History {
  return historyFromJSON(JSON.parse(readFileSync(file, 'utf8')));
}

export interface ReplayFile {
  workflowId: string;
  file: string;
}

export interface ReplayResult {
  workflowId: string;
  /** Undefined when the history replayed cleanly; name and message survive the thread boundary. */
  error?: { name: string; message: string };
}

/**
 * Replay workers call into the sandbox with the debug mode's execution timeout, 2^32-1 ms (49 days:
 * none), and Node starts a watchdog thread for every `runInContext` given any timeout: thousands of
 * calls per corpus, 0.7 s of its 3 s (measured). Dropping that one value from the options makes no
 * difference but the cost; a real worker's timeout (5 s, in its worker threads) is left as it is.
 * Per thread: each thread has its own `Script`.
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
 * Replay workers run workflow code on this thread (the SDK's debug mode), where the SDK installs a
 * promise hook that captures and source-maps a stack trace for every promise the saga creates, so
 * that a running workflow can answer the `__stack_trace` query. Nobody queries a replay, and the hook
 * was a third of the corpus replay's CPU time (profiled: 5.7 s → 3.9 s CPU for 103 histories).
 * Installing the SDK's handlers and uninstalling them again, marked installed, keeps the SDK from
 * installing them for the replay workers of this thread; replay results do not depend on them (a
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
 * The files of one corpus replay and the index of the next one nobody has claimed, shared by every
 * thread that replays it: a thread that started late (loading the SDK) or got short histories takes
 * more, so no thread waits for another at the end.
 */
export interface ReplayQueue {
  files: readonly ReplayFile[];
  next: SharedArrayBuffer;
}

export const replayQueue = (files: readonly ReplayFile[]): ReplayQueue => ({ files, next: new SharedArrayBuffer(4) });

/** The sinks a bundle calls, by interface and function: what a thread needs to stand in for them. */
export type SinkNames = Record<string, string[]>;
export const sinkNames = (sinks: InjectedSinks<Sinks>): SinkNames =>
  Object.fromEntries(Object.entries(sinks).map(([iface, fns]) => [iface, Object.keys(fns)]));

/**
 * Sinks of the same names that do nothing. A replay never calls a sink (none asks to be called
 * during replay), so these stand in for the worker's in a thread, which then need not load the
 * OpenTelemetry SDK and the metrics registry behind them (0.45 s of a thread's start, profiled).
 */
const noSinks = (names: SinkNames) =>
  Object.fromEntries(
    Object.entries(names).map(([iface, fns]) => [iface, Object.fromEntries(fns.map((fn) => [fn, { fn: () => undefined }]))]),
  );

/** Replays files claimed from the queue, one after the other, on one replay worker of this thread; each is parsed when claimed. */
export async function* replayFiles(
  workflowBundle: WorkflowBundle,
  queue: ReplayQueue,
  name: string,
  sinks: InjectedSinks<Sinks>,
) {
  withoutStackTraceHooks();
  withoutWatchdogThreads();
  const next = new Int32Array(queue.next);
  function* histories() {
    for (let i = Atomics.add(next, 0, 1); i < queue.files.length; i = Atomics.add(next, 0, 1)) {
      const { workflowId, file } = queue.files[i]!;
      yield { workflowId, history: loadHistory(file) };
    }
  }
  const converter = dataConverter(PayloadEnvironment.parse(process.env).PAYLOAD_KEYS);
  for await (const r of Worker.runReplayHistories(
    { workflowBundle, replayName: name, dataConverter: converter, sinks },
    histories(),
  )) {
    const result: ReplayResult = { workflowId: r.workflowId };
    if (r.error) result.error = { name: r.error.name, message: r.error.message };
    yield result;
  }
}

/**
 * A worker thread that will replay a share of the corpus. Started before the bundle exists, so that
 * loading the SDK and its native runtime in the thread overlaps the bundling; `replay` hands it the
 * bundle and its files and resolves with their results.
 */
export interface ReplayThread {
  replay(workflowBundle: WorkflowBundle, queue: ReplayQueue, sinks: SinkNames): Promise<ReplayResult[]>;
  stop(): Promise<void>;
}

export function startReplayThread(name: string): ReplayThread {
  // Run under tsx (every entry point of this repository is): the thread must load TypeScript too.
  // Resolved here: an eval'd thread resolves from the working directory, which need not be this checkout.
  const tsx = __filename.endsWith('.ts') ? `require(${JSON.stringify(require.resolve('tsx/cjs'))});` : '';
  const boot = `${tsx} require(${JSON.stringify(__filename)});`;
  const thread = new Thread(boot, { eval: true, workerData: { name } });
  const failed = new Promise<never>((_, reject) => {
    thread.once('error', reject);
    thread.once('exit', (code) => reject(new Error(`replay thread ${name} exited with ${code}`)));
  });
  failed.catch(() => undefined);
  return {
    replay(workflowBundle, queue, sinks) {
      const done = new Promise<ReplayResult[]>((resolve) => thread.once('message', resolve));
      thread.postMessage({ workflowBundle, queue, sinks });
      return Promise.race([done, failed]);
    },
    async stop() {
      await thread.terminate();
    },
  };
}

if (!isMainThread && (workerData as { name?: string } | null)?.name !== undefined) {
  const { name } = workerData as { name: string };
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  type Job = { workflowBundle: WorkflowBundle; queue: ReplayQueue; sinks: SinkNames };
  parentPort?.once('message', ({ workflowBundle, queue, sinks }: Job) => {
    void (async () => {
      const results: ReplayResult[] = [];
      for await (const r of replayFiles(workflowBundle, queue, name, noSinks(sinks))) results.push(r);
      parentPort?.postMessage(results);
    })();
  });
}
