// Invariant: with PAYLOAD_KEYS configured, the customer's name, email and address never reach
// Temporal's history in clear (the server stores ciphertext under the current key id), while the
// saga completes and the typed client reads inputs, queries, results and summaries decoded.
import { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { parseOrder } from '../../../../domain/order';
import { dataConverter } from '../../../../platform/codec/data-converter';
import { ENCRYPTED_ENCODING, EncryptionCodec, KEY_ID_METADATA } from '../../../../platform/codec/encryption';
import { parseKeyring } from '../../../../platform/codec/keyring';
import { workflowIdFor } from '../../../../domain/ids';
import { temporalNamespace } from '../../../env';
import { anOrder, bundle, DEFAULT_STOCK, reaches, startHarness, uniqueId, type SagaHarness } from '../../workflows/harness';

const keyring = parseKeyring(`k7:${randomBytes(32).toString('base64')},k6:${randomBytes(32).toString('base64')}`);
let h: SagaHarness;

before(async () => {
  h = await startHarness({ stock: DEFAULT_STOCK, dataConverter: dataConverter(keyring) });
});
after(async () => {
  await h.stop();
});

/** The history exactly as the server stores it: no data converter, no codec, every page. */
async function rawHistory(workflowId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await h.client.workflowService.getWorkflowExecutionHistory({
      namespace: temporalNamespace(),
      execution: { workflowId },
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return events;
}

test('the saga input is stored encrypted; the saga completes and reads back decoded', async () => {
  const orderId = uniqueId('encrypted');
  // Unique personal data, so a match can only come from this saga's history.
  const secretName = `Ada ${randomBytes(4).toString('hex')} Lovelace`;
  const secretEmail = `ada-${randomBytes(4).toString('hex')}@example.com`;
  const secretStreet = `${randomBytes(3).toString('hex')} Byron Road`;
  const request = anOrder({
    orderId,
    customer: { id: 'cust-enc', name: secretName, email: secretEmail },
    shippingAddress: { name: secretName, line1: secretStreet, city: 'London', postalCode: 'N1 9GU', country: 'GB' },
  });

  await h.orders.startOrder(request);
  await reaches(h, orderId, 'AWAITING_DISPATCH');
  const dispatched = await h.orders.confirmDispatch(orderId, { trackingNumber: `TRK-${orderId}`, carrier: 'DHL' });
  assert.ok(dispatched.accepted);
  const outcome = await h.orders.orderOutcome(orderId);
  assert.equal(outcome.status, 'COMPLETED');
  assert.equal((await h.orders.getOrder(orderId)).status, 'COMPLETED');

  const events = await rawHistory(workflowIdFor(orderId));
  const stored = Buffer.from(temporal.api.history.v1.History.encode({ events }).finish());
  for (const clear of [secretName, secretEmail, secretStreet]) {
    assert.equal(stored.indexOf(clear), -1, `${clear} is stored in clear in the history`);
    assert.equal(stored.indexOf(Buffer.from(clear).toString('base64')), -1, `${clear} is stored base64-encoded in the history`);
  }

  const input = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  assert.equal(input.length, 1);
  const meta = (key: string) => Buffer.from(input[0]?.metadata?.[key] ?? []).toString();
  assert.equal(meta('encoding'), ENCRYPTED_ENCODING);
  assert.equal(meta(KEY_ID_METADATA), 'k7', 'encrypted under the current (first) key');

  // With the keys, the stored input is the order as validated and started.
  const [decoded] = await new EncryptionCodec(keyring).decode(input);
  assert.deepEqual(defaultPayloadConverter.fromPayload(decoded!), parseOrder(request));

  // The typed client's Client decodes the UI metadata too (summaries are payloads as well).
  const summary = await (await h.client.workflow.getHandle(workflowIdFor(orderId)).describe()).staticSummary();
  assert.match(summary ?? '', new RegExp(`Order ${orderId}: 2 line\\(s\\)`));

  // A client without the keys (the UI without the codec server) reads ciphertext, not the order.
  const keyless = new Client({ connection: h.client.connection, namespace: temporalNamespace() });
  await assert.rejects(keyless.workflow.getHandle(workflowIdFor(orderId)).result());

  // The encrypted history replays against the workflow code when the replayer holds the keys.
  const history = await h.client.workflow.getHandle(workflowIdFor(orderId)).fetchHistory();
  await Worker.runReplayHistory(
    { workflowBundle: await bundle(), dataConverter: dataConverter(keyring), replayName: 'encrypted' },
    history,
    workflowIdFor(orderId),
  );
});
