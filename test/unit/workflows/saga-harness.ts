import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { bundleWorkflows } from '../../../platform/deployment';
import { sagaSinks } from '../../../workers/saga-metrics';
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Participants } from '../../../activities';
import { createOrderClient, type OrderClient, type OrderRequest } from '../../../api/client';
import { workflowIdFor } from '../../../domain/ids';
import type { SagaStatus } from '../../../domain/saga';
import { sagaQuery, type SagaProgress } from '../../../workflows/definitions';
import type { orderFulfillment } from '../../../workflows/order-fulfillment';
import { testServerPath } from '../../env';
import { waitUntil } from '../../wait';

/**
 * The saga's logic on the time-skipping test server with every participant mocked: each order id
 * gets a script (which calls refuse, fail, hang until released), and every call is recorded. No
 * database, no Kafka: every path of the saga runs in seconds, and days of SLA pass in a moment.
 */
export type ActivityName = keyof (Participants['orders'] &
  Participants['payments'] &
  Participants['inventory'] &
  Participants['shipping'] &
  Participants['fraud']);

export type Fault =
  /** A typed business refusal (non-retryable ApplicationFailure of this type). */
  | { refuse: string }
  /** A technical failure for the first `times` attempts (Infinity: never succeeds). */
  | { fail: number };

export interface Script {
  /** What the payment provider answers at authorization (default authorized). */
  authorization?: 'authorized' | 'pending';
  faults?: Partial<Record<ActivityName, Fault>>;
  /** Calls that wait for the test to release them (a slow participant, a call in flight). */
  holds?: Partial<Record<ActivityName, Hold>>;
}

/** A gate the test opens; the held activity answers only then. */
export class Hold {
  private open!: () => void;
  readonly released = new Promise<void>((resolve) => (this.open = resolve));
  entered = false;
  release(): void {
    this.open();
  }
}

export interface SagaTestEnv {
  env: TestWorkflowEnvironment;
  orders: OrderClient;
  taskQueue: string;
  /** Registers the script of an order and returns its id. */
  script(label: string, script?: Script): string;
  calls(orderId: string): ActivityName[];
  /** The participant recovers: the fault planned for this call is gone. */
  clearFault(orderId: string, activity: ActivityName): void;
  handle(orderId: string): WorkflowHandle<typeof orderFulfillment>;
  progress(orderId: string): Promise<SagaProgress>;
  statusReaches(orderId: string, status: SagaStatus): Promise<SagaProgress>;
  stop(): Promise<void>;
}

const RESULTS: Record<ActivityName, (req: Record<string, unknown>, script: Script) => unknown> = {
  submitOrder: () => ({ status: 'SUBMITTED' }),
  confirmOrder: () => ({ status: 'CONFIRMED' }),
  completeOrder: () => ({ status: 'COMPLETED' }),
  cancelOrder: (req) => ({ status: req.outcome }),
  escalateOrder: () => ({ status: 'ESCALATED' }),
  screenOrder: () => ({ verdict: 'clear' }),
  authorizePayment: (req, s) => ({ authorizationId: `auth-${String(req.orderId)}`, status: s.authorization ?? 'authorized' }),
  recordPaymentResult: (req) => {
    if (!req.approved) {
      throw ApplicationFailure.create({
        message: 'card declined',
        type: 'PaymentDeclined',
        nonRetryable: true,
        category: 'BENIGN',
      });
    }
    return { authorizationId: req.authorizationId, status: 'authorized' };
  },
  voidAuthorization: () => ({ voided: true }),
  capturePayment: (req) => ({ captureId: `cap-${String(req.orderId)}` }),
  refundPayment: () => ({ refunded: true }),
  reserveStock: () => ({ reserved: true }),
  releaseStock: () => ({ released: true }),
  allocateShipment: (req) => ({ shipmentId: `ship-${String(req.orderId)}`, status: 'allocated' }),
  cancelShipment: () => ({ cancelled: true }),
  recordDispatch: (req) => ({ trackingNumber: req.trackingNumber, status: 'dispatched' }),
};

let bundled: Promise<WorkflowBundle> | undefined;
export const sagaBundle = () => (bundled ??= bundleWorkflows(require.resolve('../../../workflows')));

export const uniqueId = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;

export async function startSagaTestEnv(): Promise<SagaTestEnv> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: testServerPath() } },
  });
  const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: { OrderId: keyword, CustomerId: keyword, SagaStep: keyword, SagaStatus: keyword },
  });

  const scripts = new Map<string, Script>();
  const holds: Hold[] = [];
  const log = new Map<string, ActivityName[]>();
  const attempts = new Map<string, number>();
  const activities: Record<string, (req: Record<string, unknown>) => Promise<unknown>> = {};
  for (const name of Object.keys(RESULTS) as ActivityName[]) {
    activities[name] = async (req) => {
      const orderId = String(req.orderId);
      const script = scripts.get(orderId) ?? {};
      (log.get(orderId) ?? log.set(orderId, []).get(orderId))?.push(name);
      const hold = script.holds?.[name];
      if (hold) {
        hold.entered = true;
        await hold.released;
      }
      const fault = script.faults?.[name];
      if (fault && 'refuse' in fault) {
        throw ApplicationFailure.create({
          message: `${name} refused`,
          type: fault.refuse,
          nonRetryable: true,
          category: 'BENIGN',
        });
      }
      if (fault && 'fail' in fault) {
        const n = (attempts.get(`${orderId}/${name}`) ?? 0) + 1;
        attempts.set(`${orderId}/${name}`, n);
        // BENIGN: an expected failure of the script, logged at DEBUG instead of burying the report.
        if (n <= fault.fail) {
          throw ApplicationFailure.create({ message: `${name}: participant unavailable (attempt ${n})`, category: 'BENIGN' });
        }
      }
      return RESULTS[name](req, script);
    };
  }

  const taskQueue = uniqueId('saga-unit');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await sagaBundle(),
    sinks: sagaSinks(),
    activities,
    shutdownGraceTime: '2s',
  });
  const running = worker.run();
  const orders = createOrderClient(env.client, { taskQueue });
  const handle = (orderId: string) => env.client.workflow.getHandle<typeof orderFulfillment>(workflowIdFor(orderId));
  const progress = (orderId: string) => handle(orderId).query(sagaQuery);

  return {
    env,
    orders,
    taskQueue,
    script(label, script = {}) {
      const orderId = uniqueId(label);
      holds.push(...Object.values(script.holds ?? {}));
      scripts.set(orderId, script);
      return orderId;
    },
    calls: (orderId) => [...(log.get(orderId) ?? [])],
    clearFault: (orderId, activity) => {
      delete scripts.get(orderId)?.faults?.[activity];
    },
    handle,
    progress,
    statusReaches: (orderId, status) =>
      waitUntil(
        async () => {
          const p = await progress(orderId).catch(() => undefined);
          return p?.status === status ? p : undefined;
        },
        { what: `${orderId} to reach ${status}` },
      ),
    async stop() {
      // A test that failed midway may leave a call held: open every gate so the worker can stop.
      for (const hold of holds) hold.release();
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}

/** Resolves once the saga has processed an operator's cancellation request (a task completed after it). */
export async function cancellationProcessed(handle: WorkflowHandle): Promise<void> {
  await waitUntil(
    async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      const requested = events.findIndex((e) => e.workflowExecutionCancelRequestedEventAttributes);
      return requested >= 0 && events.slice(requested).some((e) => e.workflowTaskCompletedEventAttributes);
    },
    { what: 'the saga to process the cancellation' },
  );
}

/** A valid order for `orderId`; the saga's input after parsing. */
export function anOrder(orderId: string, overrides: Partial<OrderRequest> = {}): OrderRequest {
  return {
    orderId,
    customer: { id: 'cust-1', name: 'Ada Lovelace', email: 'ada@example.com' },
    lines: [{ sku: 'beans', quantity: 2, unitPrice: { amount: 1250, currency: 'EUR' } }],
    shippingAddress: { name: 'Ada Lovelace', line1: '1 Analytical Way', city: 'London', postalCode: 'N1', country: 'GB' },
    payment: { methodToken: 'tok_ok' },
    ...overrides,
  };
}

export const repoPath = (...parts: string[]) => join(__dirname, '..', '..', '..', ...parts);
