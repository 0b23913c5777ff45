import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { bundleWorkflows } from '../../../platform/deployment';
import { randomBytes } from 'node:crypto';
import { participantMigrations, type Faults } from '../../../activities';
import { restock } from '../../../activities/inventory/ledger';
import { createOrderClient, type OrderClient } from '../../../api/client';
import type { OrderRequest } from '../../../domain/order';
import type { Database } from '../../../platform/database';
import { migrate } from '../../../platform/migrations';
import { createSagaWorker } from '../../../workers/saga-worker';
import type { SagaProgress } from '../../../workflows/definitions';
import type { SagaStatus } from '../../../domain/saga';
import { sqliteDatabase, type TestDatabase } from '../../databases';
import { temporalAddress, temporalNamespace } from '../../env';
import { waitUntil } from '../../wait';

/**
 * One saga worker per test file on its own task queue and throwaway ledgers database, plus the
 * typed client and readers of the ledgers. Faults are planned per idempotency key, so tests in a
 * file never trip over each other's injected failures.
 */
export type FaultPlan = (operation: string, key: string) => void | Promise<void>;

export interface SagaHarness {
  db: Database;
  client: Client;
  orders: OrderClient;
  taskQueue: string;
  /** Adds a fault for operations whose idempotency key contains `orderId`. */
  plan(orderId: string, fault: FaultPlan): void;
  stop(): Promise<void>;
}

export const uniqueId = (label: string) => `${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

export async function startHarness({
  stock = {},
  store,
  dataConverter,
}: {
  stock?: Record<string, number>;
  store?: TestDatabase;
  /** The client's and worker's converter (e.g. dataConverter(keyring) to encrypt payloads); default plain JSON. */
  dataConverter?: DataConverter;
} = {}): Promise<SagaHarness> {
  const testDb = store ?? sqliteDatabase();
  const db = testDb.open();
  await migrate(db, participantMigrations);
  await db.transaction((tx) => restock(tx, stock));
  const taskQueue = uniqueId('sagas-test');
  const plans = new Map<string, FaultPlan>();
  const faults: Faults = {
    afterCommit: async (operation, key) => {
      for (const [orderId, fault] of plans) if (key.includes(`order-${orderId}/`)) await fault(operation, key);
    },
  };
  const native = await NativeConnection.connect({ address: temporalAddress() });
  const connection = await Connection.connect({ address: temporalAddress() });
  const client = new Client({ connection, namespace: temporalNamespace(), ...(dataConverter ? { dataConverter } : {}) });
  const worker: Worker = await createSagaWorker({
    namespace: temporalNamespace(),
    connection: native,
    db,
    taskQueue,
    faults,
    workflowBundle: await bundle(),
    ...(dataConverter ? { dataConverter } : {}),
  });
  const running = worker.run();
  return {
    db,
    client,
    orders: createOrderClient(client, { taskQueue }),
    taskQueue,
    plan: (orderId, fault) => void plans.set(orderId, fault),
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await native.close();
      await db.close();
      await testDb.drop();
    },
  };
}

let bundled: Promise<{ code: string }> | undefined;
/** The workflow bundle, built once per process (bundling takes a second or two). */
export function bundle(): Promise<{ code: string }> {
  bundled ??= bundleWorkflows(require.resolve('../../../workflows'));
  return bundled;
}

const eur = (amount: number) => ({ amount, currency: 'EUR' });

/** A valid order; tests override what they are about. */
export function anOrder(overrides: Partial<OrderRequest> & { orderId: string }): OrderRequest {
  return {
    customer: { id: 'cust-1', name: 'Grace Hopper', email: 'grace@example.com' },
    shippingAddress: { name: 'Grace Hopper', line1: '1 Main St', city: 'Arlington', postalCode: '22201', country: 'US' },
    lines: [
      { sku: 'beans', quantity: 2, unitPrice: eur(1500) },
      { sku: 'mug', quantity: 1, unitPrice: eur(800) },
    ],
    payment: { methodToken: 'tok_visa' },
    ...overrides,
  };
}

export const DEFAULT_STOCK = { beans: 100, mug: 10, grinder: 1 };

export async function statusOf(h: Pick<SagaHarness, 'orders'>, orderId: string): Promise<SagaProgress | undefined> {
  return h.orders.getOrder(orderId).catch(() => undefined);
}

export async function reaches(
  h: Pick<SagaHarness, 'orders'>,
  orderId: string,
  status: SagaStatus,
  timeoutMs = 30_000,
): Promise<SagaProgress> {
  return waitUntil(
    async () => {
      const l = await statusOf(h, orderId);
      return l?.status === status ? l : undefined;
    },
    { timeoutMs, what: `order ${orderId} to reach ${status}` },
  );
}

/** The undos that ran, in the order they ran. */
export const undoneInOrder = (l: Pick<SagaProgress, 'compensations'>): string[] =>
  l.compensations
    .filter((c) => c.state === 'done')
    .sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0))
    .map((c) => c.name);

// --- ledger readers ---

export async function eventsOf(db: Database, orderId: string): Promise<string[]> {
  const rows = await db.all<{ type: string }>('SELECT type FROM outbox WHERE msg_key = ? ORDER BY seq', [orderId]);
  return rows.map((r) => r.type);
}

export async function stockOf(db: Database, sku: string): Promise<{ onHand: number; reserved: number }> {
  const row = await db.get<{ on_hand: number; reserved: number }>('SELECT on_hand, reserved FROM stock_levels WHERE sku = ?', [
    sku,
  ]);
  return { onHand: Number(row?.on_hand ?? 0), reserved: Number(row?.reserved ?? 0) };
}

export async function authorizationOf(db: Database, orderId: string): Promise<{ status: string; amount: number } | undefined> {
  const row = await db.get<{ status: string; amount: number }>(
    'SELECT status, amount FROM payment_authorizations WHERE order_id = ?',
    [orderId],
  );
  return row && { status: row.status, amount: Number(row.amount) };
}

export async function countRows(db: Database, table: string, orderId: string): Promise<number> {
  const row = await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE order_id = ?`, [orderId]);
  return Number(row?.n ?? 0);
}
