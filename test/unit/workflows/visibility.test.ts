// Invariant: a saga's search attributes change with its status (and per undo while compensating,
// where an undo may retry without end), never once per forward step: each upsert is a history
// event and a visibility write on the server (release 1.6; 1.7 stopped upserting the steps past
// dispatch). What the start set is not upserted again, and a start that set nothing gets all four
// at once. A saga started on 1.7 records one patch marker, so the SDK upserts TemporalChangeVersion
// once, where it did for each of four markers on the same path before.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { workflowIdFor } from '../../../domain/ids';
import { parseOrder } from '../../../domain/order';
import { OrderIdAttribute, SagaStatusAttribute, SagaStepAttribute } from '../../../workflows/definitions';
import { anOrder, startSagaTestEnv, type SagaTestEnv } from './saga-harness';

let t: SagaTestEnv;
before(async () => {
  t = await startSagaTestEnv();
});
after(async () => {
  await t.stop();
});

/** The SDK's upserts of TemporalChangeVersion (one per patch marker a new saga records), as their values. */
async function changeVersions(orderId: string): Promise<unknown[]> {
  const history = await t.handle(orderId).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const field = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.TemporalChangeVersion;
    return field ? [JSON.parse(Buffer.from(field.data ?? []).toString()) as unknown] : [];
  });
}

/** The saga's own upserts, in history order, as `SagaStatus/SagaStep` (+ any other attribute set). */
async function upserts(orderId: string): Promise<string[]> {
  const history = await t.handle(orderId).fetchHistory();
  const decode = (data?: Uint8Array | null) => JSON.parse(Buffer.from(data ?? []).toString()) as unknown;
  return (history.events ?? []).flatMap((event) => {
    const fields = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    // The SDK's own upsert per patch (TemporalChangeVersion) is not the saga's.
    if (!fields || 'TemporalChangeVersion' in fields) return [];
    const { SagaStatus, SagaStep, ...others } = fields;
    const tags = Object.keys(others).sort();
    return [`${String(decode(SagaStatus?.data))}/${String(decode(SagaStep?.data))}${tags.length ? ` +${tags.join(',')}` : ''}`];
  });
}

test('a completed saga upserts at its status changes only, and the SDK once for its one patch marker', async () => {
  const orderId = t.script('visible-happy');
  await t.orders.startOrder(anOrder(orderId));
  await t.statusReaches(orderId, 'AWAITING_DISPATCH');
  await t.orders.confirmDispatch(orderId, { trackingNumber: 'TRK-V' });
  assert.equal((await t.handle(orderId).result()).status, 'COMPLETED');
  assert.deepEqual(await upserts(orderId), ['AWAITING_DISPATCH/awaitDispatch', 'RUNNING/awaitDispatch', 'COMPLETED/none']);
  assert.deepEqual(await changeVersions(orderId), [['release-1-7']]);
  const { patches } = await t.orders.getOrder(orderId);
  for (const implied of ['search-attributes-by-status', 'undo-waits-for-step', 'fraud-screening', 'finish-after-dispatch'])
    assert.ok(patches.includes(implied), `the saga query lists ${implied}, which release-1-7 stands for`);
});

test('a saga waiting for the payment provider shows it; the forward steps around it are not upserted', async () => {
  const orderId = t.script('visible-pending', { authorization: 'pending' });
  await t.orders.startOrder(anOrder(orderId));
  await t.statusReaches(orderId, 'AWAITING_PAYMENT');
  const described = await t.handle(orderId).describe();
  assert.equal(described.typedSearchAttributes.get(SagaStatusAttribute), 'AWAITING_PAYMENT');
  assert.equal(described.typedSearchAttributes.get(SagaStepAttribute), 'awaitPaymentResult');
  assert.deepEqual(await upserts(orderId), ['AWAITING_PAYMENT/awaitPaymentResult']);
  await t.orders.cancelOrder(orderId, 'changed my mind');
  assert.equal((await t.handle(orderId).result()).status, 'CANCELLED');
});

test('a compensating saga names each undo as it runs', async () => {
  const orderId = t.script('visible-refused', { faults: { reserveStock: { refuse: 'StockUnavailable' } } });
  await t.orders.startOrder(anOrder(orderId));
  assert.equal((await t.handle(orderId).result()).status, 'REJECTED');
  assert.deepEqual(await upserts(orderId), [
    'COMPENSATING/reserveStock',
    'COMPENSATING/cancelShipment',
    'COMPENSATING/releaseStock',
    'COMPENSATING/voidAuthorization',
    'COMPENSATING/cancelOrder',
    'REJECTED/none',
  ]);
});

test('a saga started without search attributes (a schedule, the UI, a script) gets all four in one upsert', async () => {
  const orderId = t.script('visible-bare-start');
  const handle = await t.env.client.workflow.start('orderFulfillment', {
    taskQueue: t.taskQueue,
    workflowId: workflowIdFor(orderId),
    args: [parseOrder(anOrder(orderId))],
  });
  await t.statusReaches(orderId, 'AWAITING_DISPATCH');
  const first = (await upserts(orderId))[0];
  assert.equal(first, 'RUNNING/none +CustomerId,OrderId');
  const described = await handle.describe();
  assert.equal(described.typedSearchAttributes.get(OrderIdAttribute), orderId);
  await t.orders.cancelOrder(orderId, 'test over');
  assert.equal((await t.handle(orderId).result()).status, 'CANCELLED');
});
