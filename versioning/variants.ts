import { applyMutation } from './mutation-check';
import { mutations } from './mutations';
import { scratchRepo, type ScratchRepo } from './releases';

/**
 * Workflow code that must never ship, generated from the current workflows/ so it cannot drift
 * from it: the tests that prove the replay net and the containment of a bad deploy run against it.
 */
export function workflowVariant(mutationName: string): ScratchRepo {
  const mutation = mutations.find((m) => m.name === mutationName);
  if (!mutation) throw new Error(`no mutation named "${mutationName}"`);
  const scratch = scratchRepo();
  try {
    applyMutation(scratch.root, mutation);
  } catch (err) {
    scratch.remove();
    throw err;
  }
  return scratch;
}

/** Release 1.1's fraud screening WITHOUT its patched('fraud-screening') guard. */
export const UNPATCHED_FRAUD_SCREENING = 'drop a patch guard (fraud screening for every saga, also those past submission)';
export const unpatchedRelease11 = (): ScratchRepo => workflowVariant(UNPATCHED_FRAUD_SCREENING);
