// Invariant: the rollout commands move new sagas between builds (ramp, promote, roll back) while a
// saga pinned to a build stays on it, and status shows each build with its open sagas and drainage.
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Rollout } from '../../../versioning/worker-deployments';
import { temporalAddress, temporalNamespace } from '../../env';
import { waitUntil } from '../../wait';

const suffix = Math.random().toString(36).slice(2, 8);
const deploymentName = `rollout-test-${suffix}`;
const taskQueue = deploymentName;
let connection: Connection;
let native: NativeConnection;
let client: Client;
let rollout: Rollout;
const running: { worker: Worker; done: Promise<void> }[] = [];

before(async () => {
  connection = await Connection.connect({ address: temporalAddress() });
  native = await NativeConnection.connect({ address: temporalAddress() });
  client = new Client({ connection, namespace: temporalNamespace() });
  rollout = new Rollout(connection, deploymentName, temporalNamespace());
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../fixtures/deployment/workflows') });
  for (const buildId of ['b1', 'b2']) {
    const worker = await Worker.create({
      namespace: temporalNamespace(),
      connection: native,
      taskQueue,
      workflowBundle,
      workerDeploymentOptions: {
        useWorkerVersioning: true,
        version: { deploymentName, buildId },
        defaultVersioningBehavior: 'PINNED',
      },
    });
    running.push({ worker, done: worker.run() });
  }
  // A version exists once its workers have polled; promote retries until then.
  await waitUntil(async () => (await rollout.status()).versions.length === 2, { what: 'both builds registered' });
});

after(async () => {
  for (const r of running) r.worker.shutdown();
  await Promise.all(running.map((r) => r.done));
  await native.close();
  await connection.close();
});

const buildOf = async (workflowId: string) => {
  const d = await client.workflow.getHandle(workflowId).describe();
  return d.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId ?? undefined;
};

const start = async (n: string) => {
  const h = await client.workflow.start('waitForProceed', { taskQueue, workflowId: `${deploymentName}-${n}` });
  await waitUntil(() => buildOf(h.workflowId), { what: `${n} to run its first task` });
  return h;
};

test('promote, ramp, promote and roll back', async () => {
  await rollout.promote('b1');
  let view = await rollout.status();
  assert.equal(view.current, 'b1');
  const old = await start('old');
  assert.equal(await buildOf(old.workflowId), 'b1');

  await rollout.ramp('b2', 100);
  view = await rollout.status();
  assert.deepEqual(view.ramping, { buildId: 'b2', percentage: 100 });
  const ramped = await start('ramped');
  assert.equal(await buildOf(ramped.workflowId), 'b2', 'a 100% ramp sends new sagas to the ramping build');

  const undone = await rollout.rollback();
  assert.deepEqual(undone, { action: 'unramped', buildId: 'b2' });
  assert.equal((await rollout.status()).ramping, undefined);
  const afterUnramp = await start('after-unramp');
  assert.equal(await buildOf(afterUnramp.workflowId), 'b1');

  await rollout.promote('b2');
  view = await rollout.status();
  assert.equal(view.current, 'b2');
  const b1 = view.versions.find((v) => v.buildId === 'b1');
  assert.ok(b1, 'b1 still listed');
  assert.equal(b1.openSagas, 2, 'the pinned sagas still open on b1 are counted');
  await waitUntil(async () => (await rollout.status()).versions.find((v) => v.buildId === 'b1')?.status === 'draining', {
    what: 'b1 to report draining',
  });

  const reverted = await rollout.rollback();
  assert.deepEqual(reverted, { action: 'reverted', buildId: 'b1' });
  assert.equal((await rollout.status()).current, 'b1');

  // Pinned sagas finish on the build they started on, whatever the routing says now.
  for (const h of [old, ramped, afterUnramp]) await h.signal('proceed');
  for (const h of [old, ramped, afterUnramp]) assert.equal(await h.result(), 'done');
  assert.equal(await buildOf(ramped.workflowId), 'b2');
});
