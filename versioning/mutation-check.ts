import type { History } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dataConverter } from '../platform/codec/data-converter';
import { PayloadEnvironment } from '../platform/codec/settings';
import { generateMutations, type Mutation } from './mutations';
import { repoRoot } from './releases';
import {
  bundleWorkflows,
  coreMessage,
  corpus,
  loadHistory,
  sagaSinks,
  withoutStackTraceHooks,
  withoutWatchdogThreads,
  type CorpusEntry,
} from './replay';
import { awaitingScenario, uncatchable } from './uncatchable-mutations';

/**
 * The determinism mutation check (`npm run mutation`): does the replay corpus catch every edit of
 * the saga that changes its commands, and accept every edit that does not? The mutations are
 * generated from the code (versioning/mutations.ts). All mutants go into ONE workflow bundle, each
 * under its own workflow type (`m<i>`), so webpack runs once; each corpus history is then replayed
 * with its workflow type rewritten to the mutant's, on two replay workers (one per core), and a
 * mutant counts as caught at its first failing history. The last line is `caught <n> of <m> mutations`.
 */
export function applyMutation(root: string, mutation: Mutation): void {
  const path = join(root, mutation.file);
  const before = readFileSync(path, 'utf8');
  const after = mutation.apply(before);
  if (after === before) throw new Error(`mutation "${mutation.id}" did not change ${mutation.file}`);
  writeFileSync(path, after);
}

export interface MutationResult {
  mutation: Mutation;
  /** The first history that failed replay, with the error; undefined when every history replayed. */
  failure?: string;
  replayed: number;
}

/**
 * Mutations that can share one mutant: edits in different files, or in disjoint parts of one file,
 * applied last-first so the positions of the others stay valid. The changes that must replay are
 * checked together: if the combined mutant replays, each of them does.
 */
export function combinable(mutations: readonly Mutation[]): Mutation[][] {
  const groups: Mutation[][] = [];
  for (const m of [...mutations].sort((a, b) => b.span[0] - a.span[0])) {
    const fits = (g: Mutation[]) => g.every((o) => o.file !== m.file || o.span[0] >= m.span[1] || m.span[0] >= o.span[1]);
    const group = groups.find(fits);
    if (group) group.push(m);
    else groups.push([m]);
  }
  return groups;
}

/** A tree with one copy of workflows/ per mutant (the rest of the repository linked) and an index exporting each. */
function mutantTree(mutants: readonly (readonly Mutation[])[]): { index: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), 'trapeze-mutants-'));
  const linked = readdirSync(repoRoot).filter((n) => n !== 'workflows' && n !== '.git');
  const exports: string[] = [];
  mutants.forEach((group, i) => {
    const dir = join(root, `m${i}`);
    mkdirSync(dir);
    for (const name of linked) symlinkSync(join(repoRoot, name), join(dir, name));
    cpSync(join(repoRoot, 'workflows'), join(dir, 'workflows'), { recursive: true });
    for (const m of group) applyMutation(dir, m);
    exports.push(`export { orderFulfillment as m${i} } from './m${i}/workflows';`);
  });
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  writeFileSync(join(root, 'index.ts'), `${exports.join('\n')}\n`);
  return { index: join(root, 'index.ts'), remove: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * Replays the corpus against every mutant of the bundle on `workers` replay workers. A mutant
 * expected to be caught stops at its first failing history; one expected to replay runs them all.
 */
export async function replayMutants(
  bundle: WorkflowBundle,
  mutants: readonly (readonly Mutation[])[],
  entries: readonly CorpusEntry[],
  workers = 2,
): Promise<{ failure?: string; replayed: number; expect: Mutation['expect'] }[]> {
  // Longest histories first: they take the most paths, so a mutant usually fails on the first one or two.
  const loaded = entries.map((entry) => ({ entry, history: loadHistory(entry.file) }));
  loaded.sort((a, b) => (b.history.events?.length ?? 0) - (a.history.events?.length ?? 0));
  const histories: History[] = loaded.map((l) => l.history);
  entries = loaded.map((l) => l.entry);
  const results = mutants.map((group) => ({
    expect: group[0]?.expect ?? 'caught',
    replayed: 0,
    failure: undefined as string | undefined,
  }));
  const mutations = mutants;
  let nextMutant = 0;
  const converter = dataConverter(PayloadEnvironment.parse(process.env).PAYLOAD_KEYS);

  async function* feed(): AsyncGenerator<{ workflowId: string; history: History }> {
    for (let i = nextMutant++; i < mutations.length; i = nextMutant++) {
      const result = results[i] as (typeof results)[number];
      for (let h = 0; h < histories.length; h++) {
        if (result.failure && result.expect === 'caught') break;
        const history = histories[h] as History;
        const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
        if (!started?.workflowType) throw new Error(`${entries[h]?.file} does not start with WorkflowExecutionStarted`);
        // The history is encoded when pushed, before the next one is asked for: rewriting in place is safe.
        started.workflowType.name = `m${i}`;
        yield { workflowId: `${i}/${h}`, history };
      }
    }
  }
  const run = async (w: number) => {
    const options = { workflowBundle: bundle, replayName: `mutants-${w}`, dataConverter: converter, sinks: sagaSinks() };
    for await (const r of Worker.runReplayHistories(options, feed())) {
      const [i, h] = r.workflowId.split('/').map(Number) as [number, number];
      const result = results[i] as (typeof results)[number];
      result.replayed++;
      if (r.error && !result.failure) {
        const entry = entries[h] as CorpusEntry;
        result.failure = `${entry.release}/${entry.scenario}: ${coreMessage(r.error).split('\n')[0]?.slice(0, 200)}`;
      }
    }
  };
  withoutStackTraceHooks();
  withoutWatchdogThreads();
  await Promise.all(Array.from({ length: workers }, (_, w) => run(w)));
  return results;
}

async function runMutants(mutants: readonly (readonly Mutation[])[], entries: readonly CorpusEntry[]) {
  const tree = mutantTree(mutants);
  try {
    let began = Date.now();
    const bundle = await bundleWorkflows(tree.index);
    console.log(`bundled ${mutants.length} mutants into one workflow bundle in ${((Date.now() - began) / 1000).toFixed(1)} s`);
    began = Date.now();
    const results = await replayMutants(bundle, mutants, entries);
    const replays = results.reduce((n, r) => n + r.replayed, 0);
    const seconds = (Date.now() - began) / 1000;
    console.log(`replayed ${replays} histories in ${seconds.toFixed(1)} s (${Math.round(replays / seconds)} histories/s)`);
    return results;
  } finally {
    tree.remove();
  }
}

/**
 * Every mutation against the corpus. The changes that must replay run combined (few mutants); only
 * if a combined mutant fails are its changes run one by one, to name the false alarm.
 */
export async function runMutations(mutations: readonly Mutation[], entries: readonly CorpusEntry[]): Promise<MutationResult[]> {
  const caught = mutations.filter((m) => m.expect === 'caught');
  const benign = combinable(mutations.filter((m) => m.expect === 'replays'));
  const first = await runMutants([...caught.map((m) => [m]), ...benign], entries);
  const results: MutationResult[] = caught.map((mutation, i) => ({ mutation, ...first[i] }) as MutationResult);
  const alarms: Mutation[] = [];
  benign.forEach((group, g) => {
    const r = first[caught.length + g];
    if (r?.failure) alarms.push(...group);
    else for (const mutation of group) results.push({ mutation, replayed: r?.replayed ?? 0 });
  });
  if (alarms.length > 0) {
    const single = await runMutants(
      alarms.map((m) => [m]),
      entries,
    );
    alarms.forEach((mutation, i) => results.push({ mutation, ...single[i] } as MutationResult));
  }
  const order = new Map(mutations.map((m, i) => [m, i]));
  return results.sort((a, b) => (order.get(a.mutation) ?? 0) - (order.get(b.mutation) ?? 0));
}

export interface Verdict {
  caught: number;
  expected: number;
  problems: string[];
}

/** What the results mean against the checked list of mutations replay cannot catch. */
export function judge(
  results: readonly MutationResult[],
  exempt: Readonly<Record<string, string>> = uncatchable,
  awaiting: Readonly<Record<string, string>> = awaitingScenario,
): Verdict {
  const problems: string[] = [];
  let caught = 0;
  const expected = results.filter((r) => r.mutation.expect === 'caught').length;
  for (const { mutation: m, failure } of results) {
    if (m.expect === 'replays') {
      if (failure) problems.push(`false alarm: "${m.id}" (${m.file}:${m.line}) must replay but ${failure}`);
      continue;
    }
    if (failure) {
      caught++;
      if (exempt[m.id] || awaiting[m.id])
        problems.push(`"${m.id}" is caught now: remove it from versioning/uncatchable-mutations.ts`);
    } else if (!exempt[m.id] && !awaiting[m.id])
      problems.push(
        `missed: "${m.id}" (${m.file}:${m.line}): capture a scenario that takes this path, or list it with the reason`,
      );
  }
  const ids = new Set(results.map((r) => r.mutation.id));
  for (const id of [...Object.keys(exempt), ...Object.keys(awaiting)])
    if (!ids.has(id)) problems.push(`versioning/uncatchable-mutations.ts lists "${id}", which is no longer generated`);
  return { caught, expected, problems };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  const began = Date.now();
  const entries = corpus();
  if (entries.length === 0) throw new Error('the replay corpus is empty: run `npm run capture -- --release <x.y>` first');
  const all = generateMutations();
  const mutations = values.only ? all.filter((m) => m.id.includes(values.only ?? '')) : all;
  const results = await runMutations(mutations, entries);
  const width = Math.max(...mutations.map((m) => m.id.length));
  console.log(`${'result'.padEnd(9)} ${'mutation'.padEnd(width)}  ${'site'.padEnd(34)} first failing history`);
  for (const { mutation: m, failure, replayed } of results) {
    const outcome =
      m.expect === 'replays'
        ? failure
          ? 'ALARM'
          : 'replays'
        : failure
          ? 'caught'
          : uncatchable[m.id]
            ? 'exempt'
            : awaitingScenario[m.id]
              ? 'awaiting'
              : 'MISSED';
    const detail =
      failure ??
      (m.expect === 'replays'
        ? `${replayed} histories replay`
        : (uncatchable[m.id] ?? awaitingScenario[m.id] ?? `${replayed} histories replay`));
    console.log(`${outcome.padEnd(9)} ${m.id.padEnd(width)}  ${`${m.file}:${m.line}`.padEnd(34)} ${detail}`);
  }
  const only = (list: Readonly<Record<string, string>>) =>
    values.only ? Object.fromEntries(Object.entries(list).filter(([id]) => mutations.some((m) => m.id === id))) : list;
  const verdict = judge(results, only(uncatchable), only(awaitingScenario));
  const waiting = results.filter((r) => !r.failure && awaitingScenario[r.mutation.id]).length;
  console.log(`${waiting} missed mutations await a scenario (listed in versioning/uncatchable-mutations.ts)`);
  for (const p of verdict.problems) console.log(`problem: ${p}`);
  const benign = results.filter((r) => r.mutation.expect === 'replays');
  console.log(`accepted ${benign.filter((r) => !r.failure).length} of ${benign.length} changes that must replay`);
  console.log(`${mutations.length} mutants, ${entries.length} histories, ${((Date.now() - began) / 1000).toFixed(1)} s`);
  console.log(`caught ${verdict.caught} of ${verdict.expected} mutations`);
  return verdict.problems.length === 0 ? 0 : 1;
}

if (require.main === module) {
  // Replay workers report every nondeterminism they meet at WARN; the table says it better.
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
