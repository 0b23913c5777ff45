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
export const awaitingScenario: Readonly<Record<string, string>> = {};
