// Invariant: a history exported by the Temporal CLI and one fetched through the client both load
// (no "type must be a Type" from a second protobufjs) and replay; a changed workflow fails replay
// naming the history file and the event.
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { temporalCli } from '../../../infra/temporal';
import { bundleWorkflows, corpus, replayCorpus, sagaSinks } from '../../../versioning/replay';
import { temporalAddress, temporalNamespace } from '../../env';

const fixture = require.resolve('../../fixtures/deployment/workflows');
const changed = require.resolve('../../fixtures/deployment/changed/workflows');

test('CLI-exported and client-fetched histories load and replay', async () => {
  const suffix = Math.random().toString(36).slice(2, 8);
  const taskQueue = `loader-${suffix}`;
  const workflowId = `loader-${suffix}`;
  const connection = await Connection.connect({ address: temporalAddress() });
  const native = await NativeConnection.connect({ address: temporalAddress() });
  const client = new Client({ connection, namespace: temporalNamespace() });
  const workflowBundle = await bundleWorkflows(fixture);
  const worker = await Worker.create({
    namespace: temporalNamespace(),
    connection: native,
    taskQueue,
    workflowBundle,
    sinks: sagaSinks(),
  });
  try {
    await worker.runUntil(async () => {
      const handle = await client.workflow.start('waitForProceed', { taskQueue, workflowId });
      await handle.signal('proceed');
      assert.equal(await handle.result(), 'done');
    });
    const root = mkdtempSync(join(tmpdir(), 'corpus-'));
    mkdirSync(join(root, '0.1'));
    const cliJson = execFileSync(temporalCli(), [
      'workflow',
      'show',
      '-w',
      workflowId,
      '--output',
      'json',
      '--address',
      temporalAddress(),
      '--namespace',
      temporalNamespace(),
    ]);
    writeFileSync(join(root, '0.1', 'from-cli.json'), cliJson);
    const fetched = await client.workflow.getHandle(workflowId).fetchHistory();
    writeFileSync(join(root, '0.1', 'from-client.json'), historyToJSON(fetched));

    const entries = corpus(root);
    assert.deepEqual(
      entries.map((e) => e.scenario),
      ['from-cli', 'from-client'],
    );
    const same = await replayCorpus(workflowBundle, entries);
    assert.deepEqual(
      same.map((o) => o.error),
      [undefined, undefined],
    );

    const broken = await replayCorpus(await bundleWorkflows(changed), entries, root);
    for (const outcome of broken) {
      assert.ok(outcome.error, `${outcome.entry.scenario} should fail against the changed code`);
      assert.match(outcome.error, new RegExp(`^0.1/${outcome.entry.scenario}.json: `));
      assert.match(outcome.error, /[Nn]ondetermin/);
      assert.match(outcome.error, /at event \d+ \(\w+\)/);
    }
  } finally {
    await native.close();
    await connection.close();
  }
});
