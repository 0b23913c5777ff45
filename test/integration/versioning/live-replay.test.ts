// Invariant: before a deploy, operators can replay the sagas running NOW against the candidate
// code: `npx trapeze replay` passes for the current release (1.5) on a saga started on 1.4 and names
// every running saga that release 1.8, the patch call removed too early, could not resume.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { participantMigrations } from '../../../activities';
import { restock } from '../../../activities/inventory/ledger';
import { createOrderClient } from '../../../api/client';
import { migrate } from '../../../platform/migrations';
import { releaseWorkflows, repoRoot } from '../../../versioning/releases';
import { bundleWorkflows } from '../../../versioning/replay';
import { createSagaWorker } from '../../../workers/saga-worker';
import { sqliteDatabase } from '../../databases';
import { temporalAddress, temporalNamespace } from '../../env';
import { waitUntil } from '../../wait';
import { anOrder, uniqueId } from '../workflows/harness';
import { prematureRelease18 } from '../../../versioning/variants';

test('replay:live checks running sagas against the candidate code', async () => {
  const store = sqliteDatabase();
  const db = store.open();
  await migrate(db, participantMigrations);
  await db.transaction((tx) => restock(tx, { beans: 100, mug: 100 }));
  const connection = await Connection.connect({ address: temporalAddress() });
  const native = await NativeConnection.connect({ address: temporalAddress() });
  const release14 = releaseWorkflows('1.4');
  const taskQueue = uniqueId('live-replay');
  const orders = createOrderClient(new Client({ connection, namespace: temporalNamespace() }), { taskQueue });
  const orderId = uniqueId('live');
  try {
    const worker = await createSagaWorker({
      namespace: temporalNamespace(),
      connection: native,
      db,
      taskQueue,
      workflowBundle: await bundleWorkflows(release14.workflowsPath),
    });
    await worker.runUntil(async () => {
      await orders.startOrder(anOrder({ orderId }));
      await waitUntil(async () => (await orders.getOrder(orderId).catch(() => undefined))?.status === 'AWAITING_DISPATCH', {
        what: 'a 1.4 saga waiting for dispatch',
        // Generous: the dev server is shared with other suites' sagas.
        timeoutMs: 180_000,
      });
    });
    const replay = (...args: string[]) =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', 'cli/trapeze.ts', 'replay', '--query', `WorkflowId = 'order-${orderId}'`, ...args],
        {
          cwd: repoRoot,
          env: { ...process.env, TEMPORAL_ADDRESS: temporalAddress(), TEMPORAL_NAMESPACE: temporalNamespace() },
          encoding: 'utf8',
        },
      );
    const current = replay();
    assert.equal(current.status, 0, current.stdout + current.stderr);
    assert.match(current.stdout, /replayed 1 saga\(s\) against this checkout: 0 would not resume/);

    const variant = prematureRelease18();
    const premature = (() => {
      try {
        return replay('--workflows', variant.workflowsPath);
      } finally {
        variant.remove();
      }
    })();
    assert.equal(premature.status, 3, premature.stdout + premature.stderr);
    assert.match(
      premature.stdout,
      new RegExp(`order-${orderId}: .*Non-deprecated patch marker encountered for change fraud-screening`),
    );
    assert.match(premature.stdout, /1 would not resume/);
  } finally {
    // No worker serves it any more: end it so it does not linger on a reused server.
    await new Client({ connection, namespace: temporalNamespace() }).workflow
      .getHandle(`order-${orderId}`)
      .terminate('test over')
      .catch(() => undefined);
    release14.remove();
    await native.close();
    await connection.close();
    await db.close();
    await store.drop();
  }
});
