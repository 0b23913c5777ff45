import { DefaultLogger, Runtime } from '@temporalio/worker';
import { describeStack, startStack, stopOnSignal } from '../../infra/stack';
import type { FaultCase } from './case';
import { cancellations } from './cases/cancellations';
import { consumerKilled } from './cases/consumer-killed';
import { deployMidBurst } from './cases/deploy-mid-burst';
import { kafkaPaused } from './cases/kafka-paused';
import { kafkaStopped } from './cases/kafka-stopped';
import { poisonEvents } from './cases/poison-events';
import { relayKilled } from './cases/relay-killed';
import { postgresRestart } from './cases/postgres-restart';
import { temporalRestart } from './cases/temporal-restart';
import { workerSigkill } from './cases/worker-sigkill';
import { keepWorldLogs, openWorld } from './world';
import { TEST_NAMESPACE } from '../env';

/**
 * `npm run faults [-- --short] [name filter…]`: each case runs a burst of sagas through the typed
 * client on the local stack (started or reused, loopback only), injects its fault, recovers, waits
 * for the sagas to end and is judged (judge.ts). Prints a table and, last, `total: lost <n>,
 * duplicated <n>, discrepancies <n>`; exits 1 when any is above 0. Cases that stop a server run on
 * servers of their own (case.open), never the shared stack's. All ten cases of issue 13.
 */
const CASES: Array<{ id: string; c: FaultCase }> = [
  { id: 'worker-sigkill', c: workerSigkill },
  { id: 'temporal-restart', c: temporalRestart },
  { id: 'kafka-stopped', c: kafkaStopped },
  { id: 'kafka-paused', c: kafkaPaused },
  { id: 'relay-killed', c: relayKilled },
  { id: 'postgres-restart', c: postgresRestart },
  { id: 'consumer-killed', c: consumerKilled },
  { id: 'poison-events', c: poisonEvents },
  { id: 'deploy-mid-burst', c: deployMidBurst },
  { id: 'cancellations', c: cancellations },
];

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const short = args.includes('--short');
  const filters = args.filter((a) => !a.startsWith('--'));
  const chosen = CASES.filter((x) => filters.length === 0 || filters.some((f) => x.id.includes(f)));
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  // The bursts' sagas go to the tests' namespace, not the user's.
  process.env.TEMPORAL_NAMESPACE = TEST_NAMESPACE;
  const stack = await startStack();
  Object.assign(process.env, stack.env);
  console.log(describeStack(stack));
  stopOnSignal(() => stack.stop());
  const sagas = short ? 12 : 30;
  const rows: string[] = [];
  const total = { lost: 0, duplicated: 0, discrepancies: 0 };
  for (const { id, c } of chosen) {
    const began = Date.now();
    const world = await (c.open ?? openWorld)(id);
    try {
      const r = await c.run(world, { sagas, short });
      total.lost += r.verdict.lost;
      total.duplicated += r.verdict.duplicated;
      total.discrepancies += r.verdict.discrepancies;
      rows.push(
        [
          c.name.padEnd(36),
          String(r.sagas).padStart(5),
          String(r.injected).padStart(6),
          String(r.verdict.lost).padStart(4),
          String(r.verdict.duplicated).padStart(10),
          String(r.verdict.discrepancies).padStart(13),
          `${(r.recoverMs / 1000).toFixed(1)} s`.padStart(9),
          `${((Date.now() - began) / 1000).toFixed(0)} s`.padStart(6),
        ].join('  '),
      );
      for (const note of r.verdict.notes) console.log(`  ${id}: ${note}`);
      console.log(`  ${id}: ${r.verdict.redelivered} event(s) redelivered by Kafka (deduped by the consumers)`);
      if (r.verdict.lost + r.verdict.duplicated + r.verdict.discrepancies > 0) keepWorldLogs(world);
    } catch (err) {
      keepWorldLogs(world);
      throw err;
    } finally {
      await world.close();
    }
  }
  console.log(['case'.padEnd(36), 'sagas', 'faults', 'lost', 'duplicated', 'discrepancies', ' recover', '  took'].join('  '));
  for (const row of rows) console.log(row);
  await stack.stop();
  console.log(`total: lost ${total.lost}, duplicated ${total.duplicated}, discrepancies ${total.discrepancies}`);
  return total.lost + total.duplicated + total.discrepancies > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
