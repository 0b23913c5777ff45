/**
 * Generated mutations (versioning/mutations.ts) that replay cannot catch in principle, each with the
 * reason: Temporal accepts the edited code for every possible history. `npm run mutation` fails when
 * a mutation is missed and not listed here, and when one listed here is caught or no longer generated.
 */
const RESET_RUN_BY_RUN_ID =
  "release 1.3's reset-run test (patch undo-all-after-reset), kept for the reset runs that took it, is evaluated only when " +
  'runId differs from originalExecutionRunId; the SDK replayer runs every history under its originalExecutionRunId (sdk-core ' +
  'replay), so no replay evaluates the guard, edited or not. Since 1.4 every compensating run takes undo-all-when-compensating ' +
  'first. Tested live by test/integration/workflows/reset-run.test.ts';

// Not listed: "drop deprecatePatch('fraud-screening')" (release 1.5). Replay skips a missing
// deprecated marker, but the 1.1 to 1.4 histories carry the non-deprecated one patched() wrote, and
// core refuses that without the call: caught while they are in the corpus. Retiring them is release
// 1.8, which drops the call itself, so the mutation is never missed and unlisted at once.
export const uncatchable: Readonly<Record<string, string>> = {
  "drop guard patched('undo-all-after-reset')": RESET_RUN_BY_RUN_ID,
  "invert guard patched('undo-all-after-reset')": RESET_RUN_BY_RUN_ID,
};

/**
 * Generated mutations the corpus could catch but does not yet: the path they change is taken by no
 * captured scenario. Each names the scenario it needs; they count as missed in the last line and the
 * list may only shrink (one caught now, or no longer generated, fails the check until removed).
 */
export const awaitingScenario: Readonly<Record<string, string>> = {};
