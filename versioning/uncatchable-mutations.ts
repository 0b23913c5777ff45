/**
 * Generated mutations (versioning/mutations.ts) that replay cannot catch in principle, each with the
 * reason: Temporal accepts the edited code for every possible history. `npm run mutation` fails when
 * a mutation is missed and not listed here, and when one listed here is caught or no longer generated.
 */
export const uncatchable: Readonly<Record<string, string>> = {};

/**
 * Generated mutations the corpus could catch but does not yet: the path they change is taken by no
 * captured scenario. Each names the scenario it needs; they count as missed in the last line and the
 * list may only shrink (one caught now, or no longer generated, fails the check until removed).
 */
const RESET_RUN =
  "a run made by an operator's reset that compensates (release 1.3, patch undo-all-after-reset). The capture can reset a saga " +
  "(scenarios.ts, ScenarioContext.reset), but such a run's history cannot join the corpus: the SDK's replayer runs every history " +
  'under its WorkflowExecutionStarted.originalExecutionRunId (sdk-core replay), so `runId !== originalExecutionRunId` is false on ' +
  "replay and the history fails with 'Non-deprecated patch marker encountered for change undo-all-after-reset' (a worker resuming " +
  'the run gets its real run id and replays it). Covered once the saga decides by what its history holds, not by run id; ' +
  'tested live by test/integration/workflows/reset-run.test.ts';

export const awaitingScenario: Readonly<Record<string, string>> = {
  "drop guard patched('undo-all-after-reset')": RESET_RUN,
  "invert guard patched('undo-all-after-reset')": RESET_RUN,
  'delete undo registered(…)': RESET_RUN,
  'delete undo add(…)': RESET_RUN,
};
