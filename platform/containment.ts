import type { WorkerOptions } from '@temporalio/worker';

/**
 * Nondeterminism must fail the workflow TASK (the saga waits for fixed code, retried and visible)
 * and never the workflow (a failed saga would strand reserved stock and authorised money without
 * its compensations). The SDK fails the workflow only when told to through
 * `workflowFailureErrorTypes`; the saga worker refuses to start with such a setting.
 */
const FATAL = new Set(['NondeterminismError', 'DeterminismViolationError', 'Error']);

type FailureTypes =
  Pick<WorkerOptions, 'workflowFailureErrorTypes'> | { workflowFailureErrorTypes?: Partial<Record<string, string[]>> };

export function nondeterminismEscapes(options: FailureTypes, workflowTypes: string[]): string[] {
  const configured: Partial<Record<string, string[]>> = options.workflowFailureErrorTypes ?? {};
  const problems: string[] = [];
  for (const key of ['*', ...workflowTypes]) {
    for (const type of configured[key] ?? []) {
      if (FATAL.has(type))
        problems.push(
          `workflowFailureErrorTypes['${key}'] contains ${type}: nondeterminism would fail the saga instead of its task`,
        );
    }
  }
  return problems;
}

export function assertNondeterminismContained(options: FailureTypes, workflowTypes: string[]): void {
  const problems = nondeterminismEscapes(options, workflowTypes);
  if (problems.length > 0) throw new Error(problems.join('; '));
}
