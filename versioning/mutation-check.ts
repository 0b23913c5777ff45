import { DefaultLogger, Runtime } from '@temporalio/worker';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mutations, type Mutation } from './mutations';
import { repoRoot, scratchRepo } from './releases';
import { bundleWorkflows, corpus, replayCorpus, type CorpusEntry } from './replay';

/**
 * The determinism mutation check (`npm run mutation`): does the replay net catch the edits that
 * break running sagas? Each mutation edits a COPY of workflows/ (the rest of the repository is
 * linked in, so imports resolve as in production), the copy is bundled, and the committed corpus
 * is replayed against it. A mutation is caught when at least one history fails replay.
 * The last line is `caught <n> of <m> mutations`.
 */
export function applyMutation(root: string, mutation: Mutation): void {
  const path = join(root, 'workflows', mutation.file);
  const before = readFileSync(path, 'utf8');
  const after = mutation.apply(before);
  if (after === before) throw new Error(`mutation "${mutation.name}" did not change ${mutation.file}: its pattern is stale`);
  writeFileSync(path, after);
}

export interface MutationResult {
  mutation: Mutation;
  caught: boolean;
  detail: string;
}

export async function runMutation(mutation: Mutation, entries: CorpusEntry[]): Promise<MutationResult> {
  const scratch = scratchRepo();
  try {
    applyMutation(scratch.root, mutation);
    const bundle = await bundleWorkflows(scratch.workflowsPath);
    const outcomes = await replayCorpus(bundle, entries, repoRoot);
    const failed = outcomes.filter((o) => o.error);
    return {
      mutation,
      caught: failed.length > 0,
      detail:
        failed.length > 0
          ? `${failed.length}/${outcomes.length} histories fail, e.g. ${failed[0]?.error?.slice(0, 160)}`
          : `all ${outcomes.length} histories still replay`,
    };
  } catch (err) {
    // A mutant that does not even bundle proves nothing about replay: it counts as not caught.
    return { mutation, caught: false, detail: `not run: ${(err as Error).message.split('\n')[0]}` };
  } finally {
    scratch.remove();
  }
}

async function main(): Promise<number> {
  const entries = corpus();
  if (entries.length === 0) throw new Error('the replay corpus is empty: run `npm run capture -- --release <x.y>` first');
  let caught = 0;
  for (const mutation of mutations) {
    const result = await runMutation(mutation, entries);
    if (result.caught) caught++;
    console.log(`${result.caught ? 'caught ' : 'MISSED '} ${mutation.name}: ${result.detail}`);
  }
  console.log(`caught ${caught} of ${mutations.length} mutations`);
  return caught === mutations.length ? 0 : 1;
}

if (require.main === module) {
  // Replay workers report every nondeterminism they meet at WARN; the summary lines say it better.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
