// Invariant: a saga worker killed with SIGKILL in the middle of a saga (right after a participant
// committed its effect, before the reply) loses nothing and doubles nothing: a fresh worker
// process finishes the saga, and every participant applied each effect exactly once.
import { Client, Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { participantMigrations } from '../../../activities';
import { restock } from '../../../activities/inventory/ledger';
import { createOrderClient } from '../../../api/client';
import { repoRoot } from '../../../infra/paths';
import type { Database } from '../../../platform/database';
import { migrate } from '../../../platform/migrations';
import { sqliteDatabase } from '../../databases';
import { temporalAddress, temporalNamespace } from '../../env';
import { waitUntil } from '../../wait';
import { anOrder, countRows, eventsOf, reaches, stockOf, uniqueId } from '../workflows/harness';

const store = sqliteDatabase();
const taskQueue = uniqueId('sigkill');
let db: Database;
let connection: Connection;
const children: ChildProcess[] = [];

function workerProcess(entry: string, extra: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_NAMESPACE: temporalNamespace(),
      DATABASE_URL: store.url,
      SAGA_TASK_QUEUE: taskQueue,
      SAGA_HTTP_PORT: '0',
      LOG_LEVEL: 'warn',
      ...extra,
    },
  });
  children.push(child);
  return child;
}

before(async () => {
  db = store.open();
  await migrate(db, participantMigrations);
  connection = await Connection.connect({ address: temporalAddress() });
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await connection.close();
  await db.close();
  await store.drop();
});

test('SIGKILL after a committed effect: the restarted worker completes the saga, effects applied once', async () => {
  const orders = createOrderClient(new Client({ connection, namespace: temporalNamespace() }), { taskQueue });
  const orderId = uniqueId('killed');
  const sku = `sku-${orderId}`;
  await db.transaction((tx) => restock(tx, { [sku]: 10 }));

  const doomed = workerProcess('test/integration/workflows/fixtures/paused-worker.ts', { PAUSE_AFTER_COMMIT: 'reserveStock' });
  await orders.startOrder(anOrder({ orderId, lines: [{ sku, quantity: 4, unitPrice: { amount: 250, currency: 'EUR' } }] }));
  // The reservation committed; the worker now hangs before replying.
  await waitUntil(async () => (await countRows(db, 'stock_reservations', orderId)) === 1, {
    timeoutMs: 60_000,
    what: 'the reservation to commit',
  });
  doomed.kill('SIGKILL');
  await once(doomed, 'exit');
  assert.equal(doomed.signalCode, 'SIGKILL');

  const restarted = workerProcess('workers/saga-worker.ts');
  // The lost attempt times out (5 s), the retry finds the reservation by its key and answers.
  await reaches({ orders }, orderId, 'AWAITING_DISPATCH', 60_000);
  assert.equal((await orders.confirmDispatch(orderId, { trackingNumber: 'TRK-K' })).accepted, true);
  assert.equal((await orders.orderOutcome(orderId)).status, 'COMPLETED');

  assert.deepEqual(await stockOf(db, sku), { onHand: 10, reserved: 4 }, 'reserved once');
  for (const table of ['stock_reservations', 'payment_authorizations', 'payment_captures', 'shipments']) {
    assert.equal(await countRows(db, table, orderId), 1, `one row in ${table}`);
  }
  assert.deepEqual(await eventsOf(db, orderId), [
    'OrderSubmitted',
    'FraudScreened',
    'PaymentAuthorized',
    'StockReserved',
    'ShipmentAllocated',
    'OrderConfirmed',
    'ShipmentDispatched',
    'PaymentCaptured',
    'OrderCompleted',
  ]);

  // The real entrypoint also shuts down gracefully.
  restarted.kill('SIGTERM');
  const [code] = (await once(restarted, 'exit')) as [number | null];
  assert.equal(code, 0);
});
