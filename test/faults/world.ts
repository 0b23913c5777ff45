import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { participantMigrations } from '../../activities';
import { restock } from '../../activities/inventory/ledger';
import { createOrderClient, type OrderClient } from '../../api/client';
import type { OrderRequest } from '../../domain/order';
import type { Database } from '../../platform/database';
import { migrate } from '../../platform/migrations';
import { reconciliationMigrations } from '../../reconciliation/findings';
import { sqliteDatabase, type TestDatabase } from '../databases';
import type { OwnServer } from './servers';
import { temporalAddress, temporalNamespace } from '../env';

/**
 * What one fault case runs in: its own ledgers database, task queue and order ids on the shared
 * local Temporal server, a typed client, and a warehouse that confirms each dispatch some time
 * after the order's OrderConfirmed row appears (so cancellations have a window to land in).
 */
export interface World {
  store: TestDatabase;
  db: Database;
  client: Client;
  orders: OrderClient;
  taskQueue: string;
  label: string;
  /** The Temporal server the case's sagas run on (the shared one unless the case owns one). */
  temporalAddress: string;
  /** The servers the case owns (and may stop): removed with the world. */
  own: { temporal?: OwnServer; postgres?: OwnServer };
  close(): Promise<void>;
}

/** Where a case's world lives when not on the shared stack: its own Temporal server or store. */
export interface WorldOptions {
  temporal?: OwnServer;
  postgres?: OwnServer & { store: TestDatabase };
}

export const STOCKED = 'fault-beans';
export const SHORT = 'fault-unobtainium';

export async function openWorld(label: string, options: WorldOptions = {}): Promise<World> {
  const store = options.postgres?.store ?? sqliteDatabase();
  const address = options.temporal?.address ?? temporalAddress();
  const db = store.open();
  await migrate(db, [...participantMigrations, ...reconciliationMigrations]);
  await db.transaction((tx) => restock(tx, { [STOCKED]: 1_000_000, [SHORT]: 0 }));
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: temporalNamespace() });
  const taskQueue = `faults-${label}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  return {
    store,
    db,
    client,
    orders: createOrderClient(client, { taskQueue }),
    taskQueue,
    label,
    temporalAddress: address,
    own: { temporal: options.temporal, postgres: options.postgres },
    async close() {
      await connection.close();
      await db.close();
      await store.drop();
      await options.temporal?.remove();
    },
  };
}

/** The burst's orders: most complete; every tenth is declined, every tenth + 5 runs out of stock. */
export function burstOrders(world: World, n: number): Array<{ order: OrderRequest; expected: 'COMPLETED' | 'REJECTED' }> {
  return Array.from({ length: n }, (_, i) => {
    const declined = i % 10 === 0;
    const short = i % 10 === 5;
    return {
      expected: declined || short ? ('REJECTED' as const) : ('COMPLETED' as const),
      order: {
        orderId: `${world.taskQueue}-${i}`,
        customer: { id: `cust-${i % 7}`, name: 'Fault Case', email: 'fault@example.com' },
        lines: [{ sku: short ? SHORT : STOCKED, quantity: 1, unitPrice: { amount: 1000 + i, currency: 'EUR' } }],
        shippingAddress: { name: 'Fault Case', line1: 'Street 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
        payment: { methodToken: declined ? 'tok_decline' : 'tok_visa' },
      },
    };
  });
}

/**
 * The warehouse: confirms each order's dispatch `delayMs()` after its OrderConfirmed row appears,
 * retrying while the saga refuses (not yet waiting); stops trying once the saga has ended.
 */
export function startWarehouse(world: World, delayMs: () => number = () => 0) {
  let stopped = false;
  let lastSeq = 0;
  const pending = new Set<Promise<void>>();
  const confirm = async (orderId: string) => {
    await new Promise((r) => setTimeout(r, delayMs()));
    while (!stopped) {
      const answer = await world.orders.confirmDispatch(orderId, { trackingNumber: `TRK-${orderId}` }).catch(() => undefined);
      if (answer?.accepted || answer?.reason.startsWith('the order is already')) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const loop = (async () => {
    while (!stopped) {
      // The store may be down (a case restarts it): the warehouse keeps polling until it is back.
      const rows = await world.db
        .all<{ seq: number; msg_key: string }>(
          "SELECT seq, msg_key FROM outbox WHERE type = 'OrderConfirmed' AND seq > ? ORDER BY seq",
          [lastSeq],
        )
        .catch(() => []);
      for (const r of rows) {
        lastSeq = Number(r.seq);
        const p = confirm(r.msg_key).finally(() => pending.delete(p));
        pending.add(p);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    await Promise.all(pending);
  };
}
