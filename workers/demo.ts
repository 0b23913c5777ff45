import type { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import type { OrderRequest } from '../domain/order';
import { createOrderClient, type OrderClient } from '../api/client';
import { connectClient } from '../api/connect';
import { dataConverter } from '../platform/codec/data-converter';
import { describeKeyring } from '../platform/codec/keyring';
import { participantMigrations } from '../activities';
import { restock } from '../activities/inventory/ledger';
import { TEST_TOKENS } from '../activities/payments/operations';
import { openDatabase, type Database } from '../platform/database';
import { migrate } from '../platform/migrations';
import { workflowIdFor } from '../domain/ids';
import { type SagaStatus, type TerminalStatus } from '../domain/saga';
import { readConfig } from '../platform/config';
import { createSagaWorker } from './saga-worker';
import { runCommand } from '../infra/command';

/**
 * Sample orders through the real saga: one completes (the demo plays the warehouse and confirms
 * dispatch), one is declined (test card `tok_decline`), one hits a stock shortage (the grinder is
 * stocked at 2), and one is cancelled while the payment provider has not answered yet
 * (`tok_async`). `npm run demo` exits non-zero if any ends in an unexpected state.
 */
export const DEMO_STOCK: Record<string, number> = { 'espresso-beans-1kg': 1000, 'burr-grinder': 2, 'milk-jug': 200 };

interface Sample {
  label: string;
  order: OrderRequest;
  expect: TerminalStatus;
  /** What the demo does while the saga runs. */
  drive: (client: OrderClient, orderId: string) => Promise<void>;
}

const customer = { id: 'cust-42', name: 'Ada Lovelace', email: 'ada@example.com' };
const address = { name: 'Ada Lovelace', line1: 'Kurfürstendamm 21', city: 'Berlin', postalCode: '10719', country: 'DE' };
const eur = (amount: number) => ({ amount, currency: 'EUR' });

async function statusReached(client: OrderClient, orderId: string, statuses: SagaStatus[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ledger = await client.getOrder(orderId).catch(() => undefined);
    if (ledger && statuses.includes(ledger.status)) return;
    if (Date.now() > deadline)
      throw new Error(`order ${orderId} did not reach ${statuses.join('/')} (it is ${ledger?.status ?? 'unknown'})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function sampleOrders(): Sample[] {
  return [
    {
      label: 'completes',
      order: {
        orderId: '',
        customer,
        shippingAddress: address,
        lines: [
          { sku: 'espresso-beans-1kg', quantity: 2, unitPrice: eur(1899) },
          { sku: 'milk-jug', quantity: 1, unitPrice: eur(1250) },
        ],
        payment: { methodToken: 'tok_visa' },
      },
      expect: 'COMPLETED',
      drive: async (client, orderId) => {
        await statusReached(client, orderId, ['AWAITING_DISPATCH']);
        const answer = await client.confirmDispatch(orderId, { trackingNumber: `TRK-${orderId}`, carrier: 'DHL' });
        if (!answer.accepted) throw new Error(`dispatch refused: ${answer.reason}`);
      },
    },
    {
      label: 'declined',
      order: {
        orderId: '',
        customer,
        shippingAddress: address,
        lines: [{ sku: 'espresso-beans-1kg', quantity: 1, unitPrice: eur(1899) }],
        payment: { methodToken: TEST_TOKENS.decline },
      },
      expect: 'REJECTED',
      drive: async () => undefined,
    },
    {
      label: 'stock shortage',
      order: {
        orderId: '',
        customer,
        shippingAddress: address,
        lines: [{ sku: 'burr-grinder', quantity: 5, unitPrice: eur(24900) }],
        payment: { methodToken: 'tok_visa' },
      },
      expect: 'REJECTED',
      drive: async () => undefined,
    },
    {
      label: 'cancelled mid-flight',
      order: {
        orderId: '',
        customer,
        shippingAddress: address,
        lines: [{ sku: 'milk-jug', quantity: 3, unitPrice: eur(1250) }],
        payment: { methodToken: TEST_TOKENS.async },
      },
      expect: 'CANCELLED',
      drive: async (client, orderId) => {
        await statusReached(client, orderId, ['AWAITING_PAYMENT']);
        const answer = await client.cancelOrder(orderId, 'customer changed their mind');
        if (!answer.accepted) throw new Error(`cancel refused: ${answer.reason}`);
      },
    },
  ];
}

export interface DemoOutcome {
  label: string;
  orderId: string;
  expected: TerminalStatus;
  status: string;
  reason?: string;
  ok: boolean;
  /** The saga in the Temporal UI; none when the UI's address is unknown. */
  url?: string;
}

export interface DemoOptions {
  client: Client;
  /** The ledgers database: restocked so the samples behave the same on every run. */
  db?: Database;
  taskQueue?: string;
  /** The Temporal UI (infra/temporal.ts `temporalUiUrl`); none: the workflow ids are printed instead of links. */
  uiBaseUrl?: string | undefined;
  namespace?: string;
  /** npm start: also leave one order waiting for dispatch, to look at a saga mid-flight. */
  stayUp?: boolean;
  print?: (line: string) => void;
}

export async function runDemo({
  client,
  db,
  taskQueue,
  uiBaseUrl,
  namespace = 'default',
  stayUp = false,
  print = (l) => console.log(l),
}: DemoOptions): Promise<DemoOutcome[]> {
  if (db) await db.transaction((tx) => restock(tx, DEMO_STOCK));
  const orders = createOrderClient(client, taskQueue ? { taskQueue } : {});
  const run = `demo-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
  const url = (orderId: string) =>
    uiBaseUrl ? { url: `${uiBaseUrl}/namespaces/${namespace}/workflows/${workflowIdFor(orderId)}` } : {};
  const where = (orderId: string) => url(orderId).url ?? `workflow ${workflowIdFor(orderId)}`;
  const outcomes = await Promise.all(
    sampleOrders().map(async (s, i): Promise<DemoOutcome> => {
      const orderId = `${run}-${i + 1}`;
      await orders.startOrder({ ...s.order, orderId });
      try {
        await s.drive(orders, orderId);
        const result = await orders.orderOutcome(orderId);
        return {
          label: s.label,
          orderId,
          expected: s.expect,
          status: result.status,
          ...(result.reason ? { reason: result.reason } : {}),
          ok: result.status === s.expect,
          ...url(orderId),
        };
      } catch (err) {
        return {
          label: s.label,
          orderId,
          expected: s.expect,
          status: 'ERROR',
          reason: String(err),
          ok: false,
          ...url(orderId),
        };
      }
    }),
  );
  for (const o of outcomes) {
    print(
      `${o.ok ? '✓' : '✗'} ${o.label.padEnd(21)} ${o.status.padEnd(9)}${o.reason ? ` (${o.reason})` : ''}${o.ok ? '' : `, expected ${o.expected}`}\n    ${where(o.orderId)}`,
    );
  }
  if (stayUp) {
    const orderId = `${run}-waiting`;
    await orders.startOrder({ ...sampleOrders()[0]?.order, orderId });
    print(
      `… ${'awaiting dispatch'.padEnd(21)} left mid-flight: look at its current details and saga query\n    ${where(orderId)}`,
    );
    print(
      `    play the warehouse: temporal workflow update execute --workflow-id ${workflowIdFor(orderId)} --name confirmDispatch --input '{"trackingNumber":"TRK-1"}'`,
    );
  }
  return outcomes;
}

async function main(): Promise<number> {
  // Declines and shortages are expected here; the SDK's warnings about them would bury the outcomes.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const config = readConfig();
  let stopTemporal = async () => undefined as void;
  const { ensureTemporal, temporalUiUrl } = await import('../infra/temporal');
  let uiBaseUrl = temporalUiUrl();
  if (!process.env.TEMPORAL_ADDRESS) {
    // A fresh clone with nothing running: bring up the embedded Temporal dev server first.
    const temporal = await ensureTemporal();
    config.temporal.address = temporal.address;
    uiBaseUrl = temporal.uiUrl;
    stopTemporal = () => temporal.stop();
  }
  const db = openDatabase(config.databaseUrl);
  await migrate(db, participantMigrations);
  const native = await NativeConnection.connect({ address: config.temporal.address });
  const { keyring } = config.payloads;
  console.log(describeKeyring(keyring));
  const client = await connectClient({ address: config.temporal.address, namespace: config.temporal.namespace, keyring });
  const worker = await createSagaWorker({
    connection: native,
    db,
    namespace: config.temporal.namespace,
    taskQueue: config.saga.taskQueue,
    dataConverter: dataConverter(keyring),
  });
  try {
    const outcomes = await worker.runUntil(
      runDemo({ client, db, taskQueue: config.saga.taskQueue, namespace: config.temporal.namespace, uiBaseUrl }),
    );
    return outcomes.every((o) => o.ok) ? 0 : 1;
  } finally {
    await client.connection.close();
    await native.close();
    await db.close();
    await stopTemporal();
  }
}

if (require.main === module) {
  runCommand('demo', main);
}
