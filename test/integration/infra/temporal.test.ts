// Invariant: the stack's Temporal server is real: a workflow's activity runs on a worker and the
// workflow completes with its result, and the project's search attributes are registered.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { temporalAddress, temporalNamespace } from '../../env';

let connection: Connection;
let client: Client;

before(async () => {
  connection = await Connection.connect({ address: temporalAddress() });
  client = new Client({ connection, namespace: temporalNamespace() });
});
after(() => connection.close());

test('a workflow with an activity runs to completion on the dev server', async () => {
  const taskQueue = `smoke-${randomUUID()}`;
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: temporalAddress() }),
    namespace: temporalNamespace(),
    taskQueue,
    workflowsPath: require.resolve('./smoke-workflow'),
    activities: { greet: async (name: string) => `hello, ${name}` },
  });
  const result = await worker.runUntil(
    client.workflow.execute<(name: string) => Promise<string>>('smokeGreeting', {
      taskQueue,
      workflowId: `smoke-${randomUUID()}`,
      args: ['trapeze'],
    }),
  );
  assert.equal(result, 'hello, trapeze');
});

test("the saga's custom search attributes are registered", async () => {
  const res = await connection.operatorService.listSearchAttributes({ namespace: temporalNamespace() });
  for (const name of ['OrderId', 'CustomerId', 'SagaStep', 'SagaStatus']) {
    assert.ok(name in (res.customAttributes ?? {}), `${name} is registered`);
  }
});
