import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findSites, workflowProgram } from './command-sites';
import { applyMutation } from './mutation-check';
import { generateMutations } from './mutations';
import { repoRoot, scratchRepo, type ScratchRepo } from './releases';

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

/**
 * The later releases of a patch's lifecycle, generated from the current code: `deprecated` replaces
 * `patched(id)` by `deprecatePatch(id)` and keeps only the new branch (the release after the patch);
 * `removed` drops the call too (the release after that). Tests replay the corpus against each to
 * prove which release folders must be retired before that release ships.
 */
export function patchLifecycleVariant(id: string, phase: 'deprecated' | 'removed'): ScratchRepo {
  const site = findSites(workflowProgram(repoRoot)).find((s) => s.kind === 'patch' && s.label === `patched('${id}')`);
  if (!site) throw new Error(`no patched('${id}') in workflows/`);
  const scratch = scratchRepo();
  try {
    const path = join(scratch.root, site.file);
    const source = readFileSync(path, 'utf8');
    const call = { start: site.node.getStart(), end: site.node.getEnd() };
    const replacement = phase === 'deprecated' ? `(deprecatePatch('${id}'), true)` : 'true';
    const edited = source.slice(0, call.start) + replacement + source.slice(call.end);
    writeFileSync(path, phase === 'deprecated' ? `import { deprecatePatch } from '@temporalio/workflow';\n${edited}` : edited);
  } catch (err) {
    scratch.remove();
    throw err;
  }
  return scratch;
}
