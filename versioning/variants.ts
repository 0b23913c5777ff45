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

/**
 * Release 1.8 shipped too early: `deprecatePatch('fraud-screening')` removed while sagas started on
 * 1.1 to 1.4 are still open. Their histories carry the non-deprecated marker patched() wrote, which
 * core refuses when no code asks for it, so every one of them past submission stops replaying.
 * This is also the `removed` step of the patch's lifecycle, generated from the current code.
 */
export const PREMATURE_PATCH_REMOVAL = "drop deprecatePatch('fraud-screening')";
export const prematureRelease18 = (): ScratchRepo => workflowVariant(PREMATURE_PATCH_REMOVAL);
