/**
 * Generated mutations (versioning/mutations.ts) that replay cannot catch in principle, each with the
 * reason: Temporal accepts the edited code for every possible history. `npm run mutation` fails when
 * a mutation is missed and not listed here, and when one listed here is caught or no longer generated.
 */
export const uncatchable: Readonly<Record<string, string>> = {};
