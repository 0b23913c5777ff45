import { Runtime } from '@temporalio/worker';
import type { Level, Logger } from 'pino';
import { sdkLevelOf, sdkLogger, type SdkLogLevel } from '../platform/log';

/**
 * The Temporal SDK's logs through the process's pino logger (platform/log.ts `sdkLogger`): the
 * worker's, Core's (forwarded, not printed by Core itself), the workflow `log` and activity `log`
 * lines, each with its workflow id, run id and order id. Once per process, before any worker.
 */
export function installSdkLogging(log: Logger, level: Level | 'silent' = log.level as Level): void {
  const sdkLevel = sdkLevelOf(level);
  Runtime.install({
    logger: sdkLogger(log.child({ name: 'temporal' }), observeWorkflowTaskFailures),
    telemetryOptions: { logging: { forward: {}, filter: { core: lowest('WARN', sdkLevel), other: sdkLevel } } },
  });
}

const ORDER: SdkLogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
const lowest = (a: SdkLogLevel, b: SdkLogLevel) => (ORDER.indexOf(a) < ORDER.indexOf(b) ? a : b);

type TaskFailureListener = (reason: 'nondeterminism' | 'other') => void;
const listeners = new Set<TaskFailureListener>();

/** Called for every workflow task this process's workers fail (the saga worker's metrics listen). */
export function onWorkflowTaskFailure(listener: TaskFailureListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Core reports each failed workflow task in one WARN line, "Failing workflow task", whose failure
 * names the cause; a nondeterminism error is [TMPRL1100]. (Core counts them too, as the metric
 * temporal_workflow_task_execution_failed, but only on its own exporter, not in this registry.)
 */
export function observeWorkflowTaskFailures(_level: SdkLogLevel, message: string, meta: Record<string, unknown>): void {
  if (!message.startsWith('Failing workflow task') || listeners.size === 0) return;
  const reason = /nondetermin|TMPRL1100/i.test(JSON.stringify(meta)) ? 'nondeterminism' : 'other';
  for (const listener of listeners) listener(reason);
}
