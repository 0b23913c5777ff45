import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { participantMigrations, type Faults } from '../activities';
import { restock } from '../activities/inventory/ledger';
import { createOrderClient, type OrderRequest } from '../api/client';
import { timeSkippingServer } from '../infra/temporal';
import { openDatabase, type Database } from '../platform/database';
import { migrate } from '../platform/migrations';
import { createSagaWorker } from '../workers/saga-worker';
import { workflowIdFor } from '../domain/ids';
import { corpusRoot, bundleWorkflows, sagaWorkflowsPath } from './replay';
import { resetToPoint, taskThatScheduled } from './reset-points';
import { scenarios, type Fault, type Scenario } from './scenarios';

/**
 * `npx trapeze capture --release 1.1 [--only <scenario,…>]` (alias `npm run capture -- …`)
 * Runs every saga scenario with the current workflow code, on the Temporal server at
 * TEMPORAL_ADDRESS (and, for scenarios that outlive an SLA, on the time-skipping test server), and
 * writes each history to versioning/histories/<release>/<scenario>.json. Open scenarios are
 * exported while the saga waits, then terminated. Run it once per release, before the next
 * release changes the saga, and commit the folder.
 */
const EventType = temporal.api.enums.v1.EventType;

const STOCK = { beans: 100_000, mug: 100_000, grinder: 1 };

const aBaseOrder = (orderId: string): OrderRequest => ({
  orderId,
  customer: { id: 'cust-capture', name: 'Ada Lovelace', email: 'ada@example.com' },
  shippingAddress: { name: 'Ada Lovelace', line1: '12 St James Sq', city: 'London', postalCode: 'SW1Y 4JH', country: 'DE' },
  lines: [
    { sku: 'beans', quantity: 2, unitPrice: { amount: 1500, currency: 'EUR' } },
    { sku: 'mug', quantity: 1, unitPrice: { amount: 800, currency: 'EUR' } },
  ],
  payment: { methodToken: 'tok_visa' },
});

const compareReleases = (a: string, b: string) => {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
};

interface Environment {
  client: Client;
  native: NativeConnection;
  sleep(ms: number): Promise<void>;
  teardown(): Promise<void>;
}

async function realServer(address: string): Promise<Environment> {
  const connection = await Connection.connect({ address });
  const native = await NativeConnection.connect({ address });
  return {
    client: new Client({ connection }),
    native,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    teardown: async () => {
      await native.close();
      await connection.close();
    },
  };
}

async function skippingServer(): Promise<Environment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: timeSkippingServer() } },
  });
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(['OrderId', 'CustomerId', 'SagaStep', 'SagaStatus'].map((n) => [n, 2 /* KEYWORD */])),
  });
  return { client: env.client, native: env.nativeConnection, sleep: (ms) => env.sleep(ms), teardown: () => env.teardown() };
}

/** A fault in force for one order, with the gate a held operation waits at. */
interface ActiveFault extends Fault {
  attempts: number;
  reached: Promise<void>;
  reach(): void;
  gate: Promise<void>;
  open(): void;
}

function activeFault(fault: Fault): ActiveFault {
  let reach = () => undefined as void;
  let open = () => undefined as void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const gate = new Promise<void>((resolve) => (open = resolve));
  return { ...fault, attempts: 0, reached, reach, gate, open };
}

async function historyShows<E>(scenario: string, what: string, events: () => Promise<E[]>, shows: (list: E[]) => boolean) {
  const deadline = Date.now() + 60_000;
  while (!shows(await events())) {
    if (Date.now() > deadline) throw new Error(`${scenario}: the history never showed ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function runScenario(
  env: Environment,
  taskQueue: string,
  scenario: Scenario,
  orderId: string,
  outFile: string,
  fault: ActiveFault | undefined,
): Promise<string> {
  const orders = createOrderClient(env.client, { taskQueue });
  const started = await orders.startOrder(
    { ...aBaseOrder(orderId), ...scenario.order },
    scenario.historyLimit ? { historyLimit: scenario.historyLimit } : {},
  );
  const handle = env.client.workflow.getHandle(workflowIdFor(orderId));
  const events = async () => (await handle.fetchHistory()).events ?? [];
  const resetRuns = new Set<string>();
  await scenario.drive({
    orders,
    orderId,
    sleep: (ms) => env.sleep(ms),
    cancelWorkflow: async () => {
      await handle.cancel();
    },
    held: () => fault?.reached ?? Promise.reject(new Error(`${scenario.name} holds no operation`)),
    release: () => fault?.open(),
    handled: (eventType) =>
      // The worker has finished a workflow task after the event: the saga has acted on it.
      historyShows(scenario.name, `a workflow task after ${EventType[eventType]}`, events, (list) => {
        const at = list.map((e) => e.eventType).lastIndexOf(eventType);
        return at >= 0 && list.slice(at + 1).some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
      }),
    recorded: (eventType) =>
      historyShows(scenario.name, EventType[eventType], events, (list) => list.some((e) => e.eventType === eventType)),
    reset: async (activity) => {
      const task = taskThatScheduled(await handle.fetchHistory(), activity);
      if (!task) throw new Error(`${scenario.name}: the saga never scheduled ${activity}`);
      // The operator's path: `npx trapeze saga reset <order> --event <task>`.
      const reset = await resetToPoint(env.client, handle.workflowId, task, `capture: ${scenario.name}`);
      if (!reset?.newRunId) throw new Error(`${scenario.name}: the reset made no run`);
      const refused = reset.updates.filter((u) => !u.accepted);
      if (refused.length > 0)
        throw new Error(
          `${scenario.name}: the reset run refused ${refused.map((u) => `${u.name} (${u.refusal ?? ''})`).join(', ')}`,
        );
      resetRuns.add(reset.newRunId);
    },
  });
  let status: string;
  if (scenario.open) {
    status = `open at ${scenario.open}`;
  } else {
    const result = await orders.orderOutcome(orderId);
    if (scenario.ends && result.status !== scenario.ends)
      throw new Error(`${scenario.name} ended ${result.status}, expected ${scenario.ends}`);
    status = result.status;
  }
  // The current run: after a reset, the run the reset made, which is what a worker replays.
  writeFileSync(outFile, `${historyToJSON(await handle.fetchHistory())}\n`);
  // A saga that continued as new: its first run (the one that handed over) goes in the corpus too.
  const last = await handle.describe();
  if (resetRuns.has(last.runId)) {
    status += ' (reset; the reset run kept)';
  } else if (last.runId !== started.runId) {
    const first = env.client.workflow.getHandle(workflowIdFor(orderId), started.runId);
    writeFileSync(outFile.replace(/\.json$/, '.run-1.json'), `${historyToJSON(await first.fetchHistory())}\n`);
    status += ` (continued as new; run 1 kept)`;
  }
  if (scenario.open) await handle.terminate('captured for the replay corpus');
  return status;
}

export async function capture({
  release,
  only,
  address,
  report = (line) => console.log(line),
  planned,
}: {
  release: string;
  only?: string[];
  address: string;
  /** Each history written, with the saga's end state. */
  report?: (line: string) => void;
  /** How many scenarios will run, before the first (for a progress bar). */
  planned?: (total: number) => void;
}): Promise<void> {
  const chosen = scenarios.filter(
    (s) =>
      (!s.since || compareReleases(s.since, release) <= 0) &&
      (!s.until || compareReleases(release, s.until) <= 0) &&
      (!only || only.includes(s.name)),
  );
  planned?.(chosen.length);
  const dir = join(corpusRoot, release);
  mkdirSync(dir, { recursive: true });
  const suffix = randomBytes(3).toString('hex');
  const active = new Map<string, ActiveFault>();
  const faults: Faults = {
    afterCommit: async (operation, key) => {
      for (const [orderId, f] of active) {
        if (f.operation !== operation || !key.startsWith(`${workflowIdFor(orderId)}/`)) continue;
        if (f.fails === 'held') {
          f.reach();
          await f.gate;
          return;
        }
        f.attempts++;
        if (f.fails === 'always' || f.attempts <= f.fails) throw new Error(`${operation} is down (capture fault)`);
      }
    },
  };
  const db: Database = openDatabase(':memory:');
  await migrate(db, participantMigrations);
  await db.transaction((tx) => restock(tx, STOCK));
  const workflowBundle = await bundleWorkflows(sagaWorkflowsPath());

  for (const clock of ['real', 'skipping'] as const) {
    const batch = chosen.filter((s) => s.clock === clock);
    if (batch.length === 0) continue;
    const env = clock === 'real' ? await realServer(address) : await skippingServer();
    const taskQueue = `capture-${release}-${clock}-${suffix}`;
    const worker: Worker = await createSagaWorker({ connection: env.native, db, taskQueue, workflowBundle, faults });
    try {
      await worker.runUntil(async () => {
        // Real-clock scenarios run side by side; time-skipping ones one at a time (they share one clock).
        const run = async (s: Scenario) => {
          const orderId = `cap-${release.replace('.', '_')}-${s.name.slice(0, 44)}-${suffix}`;
          const fault = s.fault && activeFault(s.fault);
          if (fault) active.set(orderId, fault);
          const file = join(dir, `${s.name}.json`);
          const status = await runScenario(env, taskQueue, s, orderId, file, fault).finally(() => fault?.open());
          report(`${relative(process.cwd(), file)}  ${status}`);
        };
        if (clock === 'real') await Promise.all(batch.map(run));
        else for (const s of batch) await run(s);
      });
    } finally {
      await env.teardown();
    }
  }
  await db.close();
}
