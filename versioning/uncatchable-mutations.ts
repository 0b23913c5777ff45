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
export const awaitingScenario: Readonly<Record<string, string>> = {
  "drop guard patched('continue-as-new')":
    'needs a captured saga that continued as new (continue-as-new after the history limit; scenario with a small historyLimit, closed and open across the new run)',
  "invert guard patched('continue-as-new')":
    'needs a captured saga that continued as new (continue-as-new after the history limit; scenario with a small historyLimit, closed and open across the new run)',
  'remove timer condition(allHandlersFinished)':
    'needs a captured saga that continued as new (continue-as-new after the history limit; scenario with a small historyLimit, closed and open across the new run)',
  'add a timer before condition(allHandlersFinished)':
    'needs a captured saga that continued as new (continue-as-new after the history limit; scenario with a small historyLimit, closed and open across the new run)',
  'give wait a timeout condition(allHandlersFinished)':
    'needs a captured saga that continued as new (continue-as-new after the history limit; scenario with a small historyLimit, closed and open across the new run)',
  'remove continueAsNew':
    'needs a captured saga that continued as new (continue-as-new after the history limit; scenario with a small historyLimit, closed and open across the new run)',
  'delete undo restore(…)':
    'needs a saga that continued as new while compensating (restore runs only in the new run): needs a captured saga that continued as new (continue-as-new after the history limit; scenario with a small historyLimit, closed and open across the new run)',
  'move wait later continuation.ifDue() #2':
    'needs a captured saga that continued as new (continue-as-new after the history limit; scenario with a small historyLimit, closed and open across the new run)',
  "invert guard patched('undo-waits-for-step')":
    'needs a saga whose undo started while the step it undoes was still in flight, where waiting for it changes the commands (an operator cancellation during a slow step whose reply arrives after the cancel)',
  "invert guard patched('payment-webhook-bound')":
    'needs a saga that receives a webhook for another authorization before its own (a foreign authorizationId), so the bound changes which answer counts',
};
