import { Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Faults } from '../../../activities';
import { workflowIdFor } from '../../../domain/ids';
import { buildId } from '../../../platform/deployment';
import { scratchRepo } from '../../../versioning/releases';
import { bundleWorkflows, sagaWorkflowsPath } from '../../../versioning/replay';
import { Rollout } from '../../../versioning/worker-deployments';
import { createSagaWorker } from '../../../workers/saga-worker';
import type { CaseResult, FaultCase } from '../case';
import { judge } from '../judge';
import { waitUntil } from '../../wait';
import { burstOrders, startWarehouse, type World } from '../world';
import { temporalNamespace } from '../../env';

/** The patch the deployed code adds; sagas past its point before the deploy must replay without it. */
export const DEPLOY_PATCH = 'faults-deploy';

/**
 * The code deployed mid-burst: today's workflows plus one patched change right after submission
 * (a timer, a new command). Every saga already past that point replays through it on the new build
 * without the marker and must not take it; without the patched() guard those replays would fail
 * as nondeterministic.
 */
function deployedWorkflows() {
  const scratch = scratchRepo();
  const path = join(scratch.root, 'workflows', 'order-fulfillment.ts');
  const source = readFileSync(path, 'utf8');
  const anchor = "      await step('submitOrder', participant.submitOrder);\n";
  if (!source.includes(anchor)) {
    scratch.remove();
    throw new Error('order-fulfillment.ts changed: no submitOrder step to patch after');
  }
  writeFileSync(
    path,
    `import { sleep as faultsDeploySleep } from '@temporalio/workflow';\n${source.replace(
      anchor,
      `${anchor}      if (state.took('${DEPLOY_PATCH}', () => patched('${DEPLOY_PATCH}'))) await faultsDeploySleep(1);\n`,
    )}`,
  );
  return scratch;
}

/**
 * Case 9: a new build is deployed mid-burst while sagas wait at every wait point: for the dispatch,
 * for the payment webhook (tok_async), and in an undo's backoff (a void that keeps failing). The
 * sagas are AUTO_UPGRADE, so each moves to the new build at its next task and replays its history
 * there. Then more sagas start (they take the patch), the waits are released, and the judge checks
 * every saga's end, that no workflow task failed (a nondeterminism shows as one), and that each
 * saga took the patch exactly when it reached the patched point on the new build.
 */
export const deployMidBurst: FaultCase = {
  name: 'deploy mid-burst (patched change)',
  async run(world: World, { sagas }): Promise<CaseResult> {
    const scratch = deployedWorkflows();
    const native = await NativeConnection.connect({ address: world.temporalAddress });
    const connection = await Connection.connect({ address: world.temporalAddress });
    const rollout = new Rollout(connection, world.taskQueue, temporalNamespace());
    let healed = false;
    const faults: Faults = {
      afterCommit: (operation) => {
        if (operation === 'voidAuthorization' && !healed) throw new Error('payment provider timeout');
      },
    };
    const workers: Array<{ worker: Worker; running: Promise<void> }> = [];
    const deploy = async (bundle: { code: string }) => {
      const build = buildId(bundle);
      const worker = await createSagaWorker({
        connection: native,
        namespace: temporalNamespace(),
        db: world.db,
        taskQueue: world.taskQueue,
        faults,
        workflowBundle: bundle,
        workerDeploymentOptions: {
          useWorkerVersioning: true,
          version: { deploymentName: world.taskQueue, buildId: build },
          defaultVersioningBehavior: 'AUTO_UPGRADE',
        },
      });
      const w = { worker, running: worker.run() };
      workers.push(w);
      // The build becomes a deployment version once its pollers reach the server; promote then.
      await waitUntil(() => rollout.promote(build).then(() => true), {
        timeoutMs: 60_000,
        intervalMs: 300,
        what: `${build} to be promotable`,
      });
      return w;
    };
    let stopWarehouse: (() => Promise<void>) | undefined;
    try {
      const [current, next] = [await bundleWorkflows(sagaWorkflowsPath()), await bundleWorkflows(scratch.workflowsPath)];
      const old = await deploy(current);
      const burst = burstOrders(world, sagas).map((b, i) =>
        // Every fourth completing order pays asynchronously: it waits for the payment webhook.
        b.expected === 'COMPLETED' && i % 4 === 3 ? { ...b, order: { ...b.order, payment: { methodToken: 'tok_async' } } } : b,
      );
      const half = Math.ceil(burst.length / 2);
      const [before, after] = [burst.slice(0, half), burst.slice(half)];
      await Promise.all(before.map((b) => world.orders.startOrder(b.order)));
      // Held: at dispatch, at the payment webhook, or in an undo's backoff after a failed round.
      const held = async (orderId: string) => {
        const p = await world.orders.getOrder(orderId);
        if (p.status === 'AWAITING_DISPATCH' || p.status === 'AWAITING_PAYMENT') return true;
        // A declined saga with nothing to undo may have ended already: nothing left to hold.
        if (['COMPLETED', 'REJECTED', 'CANCELLED', 'FAILED'].includes(p.status)) return true;
        return p.status === 'COMPENSATING' && p.compensations.some((c) => c.state === 'retrying' && c.rounds >= 1);
      };
      await waitUntil(async () => (await Promise.all(before.map((b) => held(b.order.orderId)))).every(Boolean), {
        timeoutMs: 120_000,
        intervalMs: 500,
        what: 'every saga of the first half to wait at a wait point',
      });

      await deploy(next);
      const deployedAt = Date.now();
      old.worker.shutdown();
      await old.running;
      await Promise.all(after.map((b) => world.orders.startOrder(b.order)));
      healed = true;
      stopWarehouse = startWarehouse(world, () => Math.random() * 1_000);
      for (const b of burst) {
        if (b.order.payment.methodToken !== 'tok_async') continue;
        const { orderId } = b.order;
        const auth = await waitUntil(
          () =>
            world.db.get<{ authorization_id: string }>('SELECT authorization_id FROM payment_authorizations WHERE order_id = ?', [
              orderId,
            ]),
          { timeoutMs: 120_000, what: `${orderId}'s authorization` },
        );
        await waitUntil(async () => (await world.orders.getOrder(orderId)).status === 'AWAITING_PAYMENT', {
          timeoutMs: 120_000,
          what: `${orderId} to await its payment`,
        });
        await world.orders.reportPaymentResult(orderId, { authorizationId: auth.authorization_id, approved: true });
      }

      const expected = new Map(burst.map((b) => [b.order.orderId, [b.expected] as const]));
      const verdict = await judge(world, expected, 180_000);
      for (const b of burst) {
        const { orderId } = b.order;
        const history = await world.client.workflow.getHandle(workflowIdFor(orderId)).fetchHistory();
        const failed = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
        if (failed > 0) {
          verdict.discrepancies += failed;
          verdict.notes.push(`${orderId}: ${failed} workflow task failures`);
        }
        // A saga started after the deploy reaches the patched point live and takes it; one held
        // before it replays past the point and must not. (A declined one may end before the point.)
        const took = (await world.orders.getOrder(orderId)).patches.includes(DEPLOY_PATCH);
        if (took !== after.includes(b)) {
          verdict.discrepancies += 1;
          verdict.notes.push(
            `${orderId}: ${took ? 'took' : 'did not take'} ${DEPLOY_PATCH} (started ${after.includes(b) ? 'after' : 'before'} the deploy)`,
          );
        }
      }
      return { sagas: burst.length, injected: 1, verdict, recoverMs: Math.max(0, verdict.settledAt - deployedAt) };
    } finally {
      healed = true;
      await stopWarehouse?.();
      for (const w of workers) {
        if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
        await w.running;
      }
      await connection.close();
      await native.close();
      scratch.remove();
    }
  },
};
