// Invariant: the deploy gate ships a candidate whose code replays everything released and everything
// open on the cluster, and blocks one that would strand sagas: release 1.8 (the deprecated
// fraud-screening call removed) committed as a candidate while 1.1 to 1.4 sagas may run fails the
// registry check, the corpus replay and the replay of a 1.4 saga open now, and the gate says which
// build that saga runs on.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { participantMigrations } from '../../../activities';
import { restock } from '../../../activities/inventory/ledger';
import { createOrderClient } from '../../../api/client';
import { migrate } from '../../../platform/migrations';
import { applyMutation } from '../../../versioning/mutation-check';
import { generateMutations } from '../../../versioning/mutations';
import { releaseWorkflows, repoRoot } from '../../../versioning/releases';
import { bundleWorkflows } from '../../../versioning/replay';
import { PREMATURE_PATCH_REMOVAL } from '../../../versioning/variants';
import { createSagaWorker } from '../../../workers/saga-worker';
import { sqliteDatabase } from '../../databases';
import { temporalAddress, temporalNamespace } from '../../env';
import { waitUntil } from '../../wait';
import { anOrder, uniqueId } from '../workflows/harness';

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: 'pipe' }).trim();

/** A commit of HEAD with the patch call removed two releases early: what a developer who did not wait for drainage would push. */
function unsafeCandidate(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'gate-unsafe-')), 'tree');
  git(repoRoot, 'worktree', 'add', '--detach', '--quiet', dir, 'HEAD');
  try {
    const mutation = generateMutations().find((m) => m.id === PREMATURE_PATCH_REMOVAL);
    assert.ok(mutation);
    applyMutation(dir, mutation);
    git(dir, '-c', 'user.name=gate test', '-c', 'user.email=gate@test', 'commit', '-qam', 'fraud-screening patch call removed');
    return git(dir, 'rev-parse', 'HEAD');
  } finally {
    git(repoRoot, 'worktree', 'remove', '--force', dir);
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
}

const gate = (candidate: string, query: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'cli/trapeze.ts', 'gate', '--candidate', candidate, '--query', query], {
    cwd: repoRoot,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_NAMESPACE: temporalNamespace(),
      SAGA_DEPLOYMENT_NAME: uniqueId('gate-deployment'),
    },
    encoding: 'utf8',
  });

test('the gate ships a safe candidate and blocks one that would strand open and released sagas', async () => {
  const store = sqliteDatabase();
  const db = store.open();
  await migrate(db, participantMigrations);
  await db.transaction((tx) => restock(tx, { beans: 100, mug: 100 }));
  const connection = await Connection.connect({ address: temporalAddress() });
  const native = await NativeConnection.connect({ address: temporalAddress() });
  const release14 = releaseWorkflows('1.4');
  const taskQueue = uniqueId('gate');
  const orders = createOrderClient(new Client({ connection, namespace: temporalNamespace() }), { taskQueue });
  const orderId = uniqueId('gate');
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
    const query = `WorkflowId = 'order-${orderId}'`;

    const safe = gate('HEAD', query);
    assert.equal(safe.status, 0, safe.stdout + safe.stderr);
    assert.match(safe.stdout, /ship +replay corpus +replayed \d+ histories/);
    assert.match(safe.stdout, /ship +open sagas on the cluster +unversioned: 1\/1 resume/);
    assert.match(safe.stdout, /^gate: ship$/m);

    const unsafe = gate(unsafeCandidate(), query);
    assert.equal(unsafe.status, 3, unsafe.stdout + unsafe.stderr);
    // The registry still holds the patch the code no longer calls, and the corpus does not replay.
    assert.match(unsafe.stdout, /block +patch registry .*no workflow code calls deprecatePatch\('fraud-screening'\)/);
    assert.match(unsafe.stdout, /block +replay corpus .*Nondeterminism error.*: \d+ failed/);
    assert.match(
      unsafe.stdout,
      new RegExp(`block +open sagas on the cluster +unversioned: 0/1 resume \\| e.g. order-${orderId}: `),
    );
    assert.match(unsafe.stdout, /^gate: block$/m);
  } finally {
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
