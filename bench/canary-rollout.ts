import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { participantMigrations } from '../activities';
import { restock } from '../activities/inventory/ledger';
import { createOrderClient, type OrderRequest } from '../api/client';
import { openDatabase } from '../platform/database';
import { migrate } from '../platform/migrations';
import { formatVerdict, verdict } from '../versioning/canary';
import { buildOutcomes } from '../versioning/outcomes';
import { releaseWorkflows } from '../versioning/releases';
import { bundleWorkflows, sagaWorkflowsPath } from '../versioning/replay';
import { formatDeployment, Rollout } from '../versioning/worker-deployments';
import { createSagaWorker } from '../workers/saga-worker';
import { runCommand } from '../infra/command';

/**
 * `npm run bench:canary -- [--orders 60] [--ramp 50] [--decline-rate 0.1]`: a rollout rehearsal on
 * the server at TEMPORAL_ADDRESS. Release 1.0 (from git) is current, release 1.1 (the working tree)
 * is ramped; orders run to completion (a share declined), then `rollout status` and the canary
 * verdict print, as an operator would see them.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      orders: { type: 'string', default: '60' },
      ramp: { type: 'string', default: '50' },
      'decline-rate': { type: 'string', default: '0.1' },
    },
  });
  const n = Number(values.orders);
  const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const suffix = randomBytes(3).toString('hex');
  const deploymentName = `canary-rehearsal-${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'canary-'));
  const db = openDatabase(`sqlite:${join(dir, 'ledgers.db')}`);
  await migrate(db, participantMigrations);
  await db.transaction((tx) => restock(tx, { beans: 1_000_000, mug: 1_000_000 }));
  const native = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const rollout = new Rollout(connection, deploymentName);
  const release10 = releaseWorkflows('1.0');
  const workers = [];
  for (const [buildId, path] of [
    ['1.0', release10.workflowsPath],
    ['1.1', sagaWorkflowsPath()],
  ] as const) {
    const worker = await createSagaWorker({
      connection: native,
      db,
      taskQueue: deploymentName,
      workflowBundle: await bundleWorkflows(path),
      workerDeploymentOptions: {
        useWorkerVersioning: true,
        version: { deploymentName, buildId },
        defaultVersioningBehavior: 'PINNED',
      },
    });
    workers.push({ worker, done: worker.run() });
  }
  const retry = async (f: () => Promise<void>) => {
    for (let i = 0; ; i++) {
      try {
        return await f();
      } catch (err) {
        if (i > 50) throw err;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  };
  await retry(() => rollout.promote('1.0'));
  await retry(() => rollout.ramp('1.1', Number(values.ramp)));
  const since = new Date();
  const orders = createOrderClient(client, { taskQueue: deploymentName });
  const order = (i: number): OrderRequest => ({
    orderId: `canary-${suffix}-${i}`,
    customer: { id: `cust-${i}`, name: 'Canary Customer', email: 'canary@example.com' },
    shippingAddress: { name: 'Canary Customer', line1: '1 Main St', city: 'Berlin', postalCode: '10115', country: 'DE' },
    lines: [{ sku: 'beans', quantity: 1, unitPrice: { amount: 1500, currency: 'EUR' } }],
    payment: { methodToken: i % Math.round(1 / Number(values['decline-rate'])) === 0 ? 'tok_decline' : 'tok_visa' },
  });
  const began = Date.now();
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const { orderId } = await orders.startOrder(order(i));
      for (;;) {
        const status = (await orders.getOrder(orderId)).status;
        if (status === 'AWAITING_DISPATCH') {
          await orders.confirmDispatch(orderId, { trackingNumber: `TRK-${i}` });
          break;
        }
        if (status === 'REJECTED') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await orders.orderOutcome(orderId);
    }),
  );
  console.log(`${n} sagas in ${((Date.now() - began) / 1000).toFixed(1)} s, ${values.ramp}% ramped to 1.1\n`);
  await new Promise((r) => setTimeout(r, 2000)); // visibility is eventually consistent
  console.log(formatDeployment(await rollout.status()));
  const common = {
    deploymentName,
    workflowType: 'orderFulfillment',
    since: new Date(since.getTime() - 1000),
    stuckAfterMs: 3_600_000,
  };
  const baseline = await buildOutcomes(client, { ...common, buildId: '1.0' });
  const canary = await buildOutcomes(client, { ...common, buildId: '1.1' });
  console.log(formatVerdict(verdict(baseline, canary, { minClosed: Math.min(20, Math.floor(n / 4)) }), { baseline, canary }));
  for (const w of workers) w.worker.shutdown();
  await Promise.all(workers.map((w) => w.done));
  release10.remove();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  await connection.close();
  await native.close();
}

Runtime.install({ logger: new DefaultLogger('WARN') });
runCommand('bench:canary', main);
