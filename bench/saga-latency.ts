import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { participantMigrations } from '../activities';
import { restock } from '../activities/inventory/ledger';
import { createOrderClient } from '../api/client';
import { dataConverter } from '../platform/codec/data-converter';
import { describeKeyring } from '../platform/codec/keyring';
import { PayloadEnvironment } from '../platform/codec/settings';
import { openDatabase } from '../platform/database';
import { migrate } from '../platform/migrations';
import { createSagaWorker } from '../workers/saga-worker';

/**
 * `npm run bench:saga [runs]`: end-to-end duration of one order saga on a real Temporal server
 * (TEMPORAL_ADDRESS, default localhost:7233) with an in-process saga worker and SQLite ledgers.
 * One saga at a time: start → five steps → awaiting dispatch → the warehouse confirms → capture →
 * completed. Prints median, p95 and max of the whole saga and of its two halves. With PAYLOAD_KEYS
 * set, every payload is encrypted as in production (the codec's cost is in the numbers).
 */
const runs = Number(process.argv[2] ?? 100);
const warmup = 5;

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
const fmt = (xs: number[]) =>
  `median ${percentile(xs, 50).toFixed(1)} ms, p95 ${percentile(xs, 95).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const dir = mkdtempSync(join(tmpdir(), 'trapeze-bench-'));
  const db = openDatabase(`sqlite:${join(dir, 'bench.db')}`);
  await migrate(db, participantMigrations);
  await db.transaction((tx) => restock(tx, { beans: 1_000_000 }));
  const native = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const taskQueue = `bench-${Date.now().toString(36)}`;
  const keyring = PayloadEnvironment.parse(process.env).PAYLOAD_KEYS;
  const worker = await createSagaWorker({ connection: native, db, taskQueue, dataConverter: dataConverter(keyring) });
  const orders = createOrderClient(new Client({ connection, dataConverter: dataConverter(keyring) }), { taskQueue });
  const total: number[] = [];
  const toDispatch: number[] = [];
  const afterDispatch: number[] = [];

  await worker.runUntil(async () => {
    for (let i = 0; i < runs + warmup; i++) {
      const orderId = `${taskQueue}-${i}`;
      const began = performance.now();
      await orders.startOrder({
        orderId,
        customer: { id: 'bench', name: 'Bench', email: 'bench@example.com' },
        lines: [{ sku: 'beans', quantity: 1, unitPrice: { amount: 1000, currency: 'EUR' } }],
        shippingAddress: { name: 'Bench', line1: 'Street 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
        payment: { methodToken: 'tok_visa' },
      });
      // The warehouse answers as soon as the order waits for it (polled every 2 ms).
      while ((await orders.getOrder(orderId)).status !== 'AWAITING_DISPATCH') await new Promise((r) => setTimeout(r, 2));
      const waiting = performance.now();
      const answer = await orders.confirmDispatch(orderId, { trackingNumber: `T-${i}` });
      if (!answer.accepted) throw new Error(answer.reason);
      const result = await orders.orderOutcome(orderId);
      if (result.status !== 'COMPLETED') throw new Error(`saga ${orderId} ended ${result.status}`);
      const done = performance.now();
      if (i < warmup) continue;
      total.push(done - began);
      toDispatch.push(waiting - began);
      afterDispatch.push(done - waiting);
    }
  });
  console.log(
    `order saga end to end on ${address}, ${runs} runs one at a time (after ${warmup} warm-up runs); ${describeKeyring(keyring)}:`,
  );
  console.log(`  whole saga (start → completed, 8 steps):           ${fmt(total)}`);
  console.log(`  start → awaiting dispatch (submit … confirm):      ${fmt(toDispatch)}`);
  console.log(`  dispatch confirmed → completed (record, capture):  ${fmt(afterDispatch)}`);
  await connection.close();
  await native.close();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
