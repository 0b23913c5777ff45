import { DefaultLogger, Runtime } from '@temporalio/worker';
import { describeStack, startStack, stopOnSignal } from '../../infra/stack';
import fc from 'fast-check';
import { parseArgs } from 'node:util';
import { TEST_NAMESPACE } from '../env';
import { BATCH, batch, scenario, startExplorer, type Explorer, type Scenario } from './interleavings';

/**
 * `npm run explore -- --runs N [--seed S] [--concurrency C] [--server dev|time-skipping]`: the
 * interleaving property at length. Prints the seed first, so a failure found tonight replays
 * tomorrow with the same seed and case number (`--case I` runs that one case alone).
 *
 * The long form keeps C sagas in flight at all times, each new case starting as soon as one ends,
 * instead of fast-check's batches, where every batch waits for its slowest saga (an undo retried
 * seven times): the same cases, about three times the rate. `--property` runs the batched
 * fast-check property instead, which shrinks a failure to a smaller one (`--path` replays it).
 *
 * On the local dev server by default (started or reused); the time-skipping test server is faster
 * but rejects an activity cancellation that crosses the activity's completion, a quirk the real
 * server does not have (seed 766223741 shows it).
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '1000' },
      seed: { type: 'string' },
      case: { type: 'string' },
      concurrency: { type: 'string', default: String(BATCH) },
      property: { type: 'boolean', default: false },
      path: { type: 'string' },
      server: { type: 'string', default: 'dev' },
    },
  });
  const runs = Number(values.runs);
  const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
  console.log(`explore: ${runs} cases, seed ${seed}`);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const server = values.server === 'time-skipping' ? 'time-skipping' : 'dev';
  let stopStack = async () => undefined as void;
  if (server === 'dev') {
    // Its thousands of sagas stay out of the user's namespace.
    process.env.TEMPORAL_NAMESPACE = TEST_NAMESPACE;
    const stack = await startStack();
    Object.assign(process.env, stack.env);
    console.log(describeStack(stack));
    stopStack = () => stack.stop();
    stopOnSignal(stopStack);
  }
  const explorer = await startExplorer(server);
  const began = Date.now();
  const tally = new Tally(began);
  try {
    if (values.property) await property(explorer, tally, runs, seed, values.path);
    else {
      // The same seed always yields the same list of cases, so a case is named by seed and number.
      const only = values.case === undefined ? undefined : Number(values.case);
      // A longer sample keeps the same prefix, so `--case 3125` needs no `--runs`.
      const cases = fc.sample(scenario, { seed, numRuns: Math.max(runs, (only ?? 0) + 1) });
      const failures = await pool(
        explorer,
        tally,
        only === undefined ? cases.map((s, i) => [i, s] as const) : [[only, cases[only]!] as const],
        Number(values.concurrency),
      );
      if (failures.length > 0) {
        console.error(`${failures.length} of ${tally.done} cases broke an invariant (seed ${seed})`);
        return 1;
      }
    }
  } finally {
    await explorer.stop();
    await stopStack();
  }
  console.log(
    `outcomes: ${tally.outcomes()}; saga worker restarts: ${explorer.restarts()}; misordered updates repaired: ${explorer.repairs()}`,
  );
  console.log(`explored ${tally.done} cases in ${tally.seconds()} s: no invariant broken (seed ${seed})`);
  return 0;
}

class Tally {
  done = 0;
  private readonly statuses = new Map<string, number>();
  constructor(private readonly began: number) {}
  count(status: string): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (++this.done % 100 === 0) console.log(`  ${this.done} cases, ${this.seconds()} s`);
  }
  seconds(): string {
    return ((Date.now() - this.began) / 1000).toFixed(0);
  }
  outcomes(): string {
    return [...this.statuses].map(([k, n]) => `${k} ${n}`).join(', ');
  }
}

/** Every case runs; a broken one is reported with its number and scenario, and the rest go on. */
async function pool(
  explorer: Explorer,
  tally: Tally,
  cases: (readonly [number, Scenario])[],
  concurrency: number,
): Promise<string[]> {
  const failures: string[] = [];
  let reported = 0;
  let next = 0;
  const lane = async () => {
    while (next < cases.length) {
      const [i, s] = cases[next++]!;
      try {
        const { result, violations } = await explorer.run(s);
        tally.count(result.status);
        if (violations.length > 0) failures.push(`case ${i}: ${result.status}: ${violations.join('; ')}\n  ${JSON.stringify(s)}`);
      } catch (err) {
        tally.count('ERROR');
        failures.push(`case ${i}: ${err instanceof Error ? err.message : String(err)}\n  ${JSON.stringify(s)}`);
      }
      // A long run reports a broken case at once, not hours later.
      for (; reported < failures.length; reported++) console.error(failures[reported]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  return failures;
}

async function property(explorer: Explorer, tally: Tally, runs: number, seed: number, path: string | undefined) {
  await fc.assert(
    fc.asyncProperty(batch, async (scenarios) => {
      const outcomes = await Promise.all(scenarios.map((s) => explorer.run(s)));
      const broken: string[] = [];
      for (const { result, violations } of outcomes) {
        tally.count(result.status);
        if (violations.length > 0) broken.push(`${result.status}: ${violations.join('; ')}`);
      }
      if (broken.length > 0) throw new Error(broken.join(' | '));
    }),
    { numRuns: Math.ceil(runs / BATCH), seed, endOnFailure: true, includeErrorInReport: true, ...(path ? { path } : {}) },
  );
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? `${err.message}\n${String(err.cause)}` : err);
    process.exit(1);
  },
);
