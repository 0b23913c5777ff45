import { applyMutation } from './mutation-check';
import { generateMutations } from './mutations';
import { scratchRepo, type ScratchRepo } from './releases';

/**
 * Workflow code that must never ship, generated from the current workflows/ so it cannot drift
 * from it: the tests that prove the replay net and the containment of a bad deploy run against it.
 */
export function workflowVariant(mutationId: string): ScratchRepo {
  const mutation = generateMutations().find((m) => m.id === mutationId);
  if (!mutation) throw new Error(`no generated mutation "${mutationId}"`);
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
export const UNPATCHED_FRAUD_SCREENING = "drop guard patched('fraud-screening')";
export const unpatchedRelease11 = (): ScratchRepo => workflowVariant(UNPATCHED_FRAUD_SCREENING);
