// Invariant: a producer schema change that removes, hides or retypes a field some consumer
// declared it reads fails the check, naming the consumer, the event and the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import type { EventCatalog } from '../../../events/definition';
import { checkContracts, describeViolation, type ConsumerContract } from '../../../events/consumer-contracts';
import { baseline } from './fixtures/catalog';

const tracking: ConsumerContract = {
  consumer: 'tracking',
  reads: [
    {
      type: 'ParcelShipped',
      version: 1,
      fields: { orderId: 'string', carrier: 'string', 'cost.amount': 'number', 'parcels[].id': 'string', 'note?': 'string' },
      learned: { 1: '1.0', 2: '1.0' },
    },
    { type: 'ParcelLost', version: 1, fields: { reason: 'string|null' }, learned: { 1: '1.0' } },
  ],
};

const withV2 = (v2: z.ZodType): EventCatalog => ({
  ...baseline,
  ParcelShipped: {
    ...(baseline.ParcelShipped as EventCatalog[string]),
    versions: { ...(baseline.ParcelShipped as EventCatalog[string]).versions, 2: v2 },
  },
});

const v1 = baseline.ParcelShipped?.versions[1] as z.ZodObject;

test('a consumer whose fields all hold is satisfied on every version it receives', () => {
  assert.deepEqual(checkContracts(baseline, [tracking]), []);
});

test('a field removed in a newer version breaks the consumer that reads it', () => {
  const messages = checkContracts(withV2(v1.omit({ carrier: true })), [tracking]).map(describeViolation);
  assert.deepEqual(messages, [
    'consumer tracking reads ParcelShipped v2 field "carrier": "carrier" is not in the producer schema (removed or renamed)',
  ]);
});

test('a field made optional or retyped breaks it, nested and in array items', () => {
  const changed = v1.extend({
    cost: z.object({ amount: z.string(), currency: z.string() }),
    parcels: z.array(z.object({ id: z.string().optional() })),
  });
  assert.deepEqual(checkContracts(withV2(changed), [tracking]).map(describeViolation), [
    'consumer tracking reads ParcelShipped v2 field "cost.amount": type is string, the consumer expects number',
    'consumer tracking reads ParcelShipped v2 field "parcels[].id": "parcels[].id" is optional in the producer schema; declare it as "parcels[].id?" if the consumer copes without it',
  ]);
});

test('a field the consumer marks optional may be optional but not removed; an unknown event is reported', () => {
  const noNote = withV2(v1.omit({ note: true }));
  assert.deepEqual(checkContracts(noNote, [tracking]).map(describeViolation), [
    'consumer tracking reads ParcelShipped v2 field "note": "note" is not in the producer schema (removed or renamed)',
  ]);
  const ghost: ConsumerContract = {
    consumer: 'ghost',
    reads: [{ type: 'ParcelTeleported', version: 1, fields: { orderId: 'string' }, learned: { 1: '1.0' } }],
  };
  assert.deepEqual(checkContracts(baseline, [ghost]).map(describeViolation), [
    'consumer ghost reads ParcelTeleported v1 field "(event)": no such event type in the catalog',
  ]);
});
