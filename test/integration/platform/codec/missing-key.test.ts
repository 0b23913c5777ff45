// Invariant: a rotation done wrong (a worker without the key a saga's payloads were written with)
// loses nothing: the worker stays up, the saga's workflow task fails with UnknownPayloadKeyError
// naming the key, and once a worker holding the key runs, the same saga carries on to completion.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { participantMigrations } from '../../../../activities';
import { restock } from '../../../../activities/inventory/ledger';
import { createOrderClient } from '../../../../api/client';
import { dataConverter } from '../../../../platform/codec/data-converter';
import { parseKeyring } from '../../../../platform/codec/keyring';
import type { Database } from '../../../../platform/database';
import { migrate } from '../../../../platform/migrations';
import { createSagaWorker } from '../../../../workers/saga-worker';
import { workflowIdFor } from '../../../../domain/ids';
import { sqliteDatabase, type TestDatabase } from '../../../databases';
import { temporalAddress, temporalNamespace } from '../../../env';
import { waitUntil } from '../../../wait';
import { anOrder, bundle, DEFAULT_STOCK, reaches, uniqueId } from '../../workflows/harness';

const k7 = `k7:${randomBytes(32).toString('base64')}`;
const k1 = `k1:${randomBytes(32).toString('base64')}`;
let store: TestDatabase;
let db: Database;
let native: NativeConnection;
let connection: Connection;

before(async () => {
  store = sqliteDatabase();
  db = store.open();
  await migrate(db, participantMigrations);
  await db.transaction((tx) => restock(tx, DEFAULT_STOCK));
  native = await NativeConnection.connect({ address: temporalAddress() });
  connection = await Connection.connect({ address: temporalAddress() });
});
after(async () => {
  await connection.close();
  await native.close();
  await db.close();
  await store.drop();
});

async function run<T>(worker: Worker, until: Promise<T>): Promise<T> {
  return worker.runUntil(until);
}

test('a worker missing the key fails the task, not the saga; with the key the saga completes', async () => {
  const taskQueue = uniqueId('missing-key');
  const orderId = uniqueId('missing-key');
  const workflowId = workflowIdFor(orderId);
  // The client writes with k7; the first worker only knows k1 (k7 was dropped from its PAYLOAD_KEYS).
  const client = new Client({
    connection,
    namespace: temporalNamespace(),
    dataConverter: dataConverter(parseKeyring(`${k7},${k1}`)),
  });
  const orders = createOrderClient(client, { taskQueue });
  const workflowBundle = await bundle();
  await orders.startOrder(anOrder({ orderId }));

  const keyless = await createSagaWorker({
    namespace: temporalNamespace(),
    connection: native,
    db,
    taskQueue,
    workflowBundle,
    dataConverter: dataConverter(parseKeyring(k1)),
  });
  const failure = await run(
    keyless,
    waitUntil(
      async () => {
        const page = await connection.workflowService.getWorkflowExecutionHistory({
          namespace: temporalNamespace(),
          execution: { workflowId },
        });
        return page.history?.events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes?.failure;
      },
      { what: 'a failed workflow task' },
    ),
  );
  assert.match(failure.message ?? '', /key "k7", which is not in PAYLOAD_KEYS/);
  assert.match(failure.stackTrace ?? '', /^UnknownPayloadKeyError/);
  assert.equal(keyless.getState(), 'STOPPED', 'the worker shut down cleanly: it never crashed');
  assert.equal((await client.workflow.getHandle(workflowId).describe()).status.name, 'RUNNING');

  // The fix: the key back in PAYLOAD_KEYS (the current key k1 first, k7 kept for decoding).
  const keyed = await createSagaWorker({
    namespace: temporalNamespace(),
    connection: native,
    db,
    taskQueue,
    workflowBundle,
    dataConverter: dataConverter(parseKeyring(`${k1},${k7}`)),
  });
  const outcome = await run(
    keyed,
    (async () => {
      await reaches({ orders }, orderId, 'AWAITING_DISPATCH', 60_000);
      const dispatched = await orders.confirmDispatch(orderId, { trackingNumber: `TRK-${orderId}` });
      assert.ok(dispatched.accepted);
      return orders.orderOutcome(orderId);
    })(),
  );
  assert.equal(outcome.status, 'COMPLETED');
});
