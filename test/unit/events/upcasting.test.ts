// Invariant: a reader always gets the newest version of an event: older versions are upcast step
// by step and validated, unknown fields are dropped, and what cannot be read says why.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Envelope } from '../../../events/envelope';
import { UnreadableEvent } from '../../../events/unreadable';
import { upcast } from '../../../events/upcasting';
import { baseline, exampleEnvelope, parcelShippedV1Data, upcasters } from './fixtures/catalog';

const read = (env: unknown) => upcast(baseline, upcasters, Envelope.parse(env));

test('a v1 event is read as v2, its new field derived from the envelope', () => {
  const event = read(exampleEnvelope('ParcelShipped', 1, parcelShippedV1Data));
  assert.equal(event.version, 2);
  assert.equal(event.writtenVersion, 1);
  assert.deepEqual(event.data, { ...parcelShippedV1Data, shippedAt: '2026-11-20T10:15:00.000Z' });
});

test('the newest version passes through unchanged', () => {
  const data = { ...parcelShippedV1Data, shippedAt: '2026-11-21T08:00:00.000Z' };
  assert.deepEqual(read(exampleEnvelope('ParcelShipped', 2, data)).data, data);
});

test('unknown fields are tolerated and dropped, at any depth', () => {
  const data = { ...parcelShippedV1Data, giftWrap: true, cost: { amount: 1, currency: 'EUR', fx: 1.1 } };
  const event = read(exampleEnvelope('ParcelShipped', 1, data));
  assert.equal((event.data as Record<string, unknown>).giftWrap, undefined);
  assert.deepEqual((event.data as { cost: unknown }).cost, { amount: 1, currency: 'EUR' });
});

test('what cannot be read is refused with a poison reason', () => {
  const reasonOf = (env: unknown) => {
    try {
      read(env);
      return 'read';
    } catch (err) {
      assert.ok(err instanceof UnreadableEvent);
      return err.reason;
    }
  };
  assert.equal(reasonOf(exampleEnvelope('ParcelVanished', 1, {})), 'unknown-type');
  assert.equal(reasonOf(exampleEnvelope('ParcelShipped', 3, parcelShippedV1Data)), 'unsupported-version');
  assert.equal(reasonOf(exampleEnvelope('ParcelShipped', 1, { ...parcelShippedV1Data, weightGrams: 'heavy' })), 'invalid-data');
  assert.equal(upcast(baseline, {}, Envelope.parse(exampleEnvelope('ParcelLost', 1, { orderId: 'o', reason: null }))).version, 1);
  assert.throws(
    () => upcast(baseline, {}, Envelope.parse(exampleEnvelope('ParcelShipped', 1, parcelShippedV1Data))),
    /no upcaster from ParcelShipped v1 to v2/,
  );
});

test('an upcaster that throws makes the event unreadable (upcaster-failed), naming the step, not the data', () => {
  const throwing = {
    ParcelShipped: { 1: (data: Record<string, unknown>) => ({ ...data, shippedAt: (data.handover as { at: string }).at }) },
  };
  try {
    upcast(baseline, throwing, Envelope.parse(exampleEnvelope('ParcelShipped', 1, parcelShippedV1Data)));
    assert.fail('read');
  } catch (err) {
    assert.ok(err instanceof UnreadableEvent);
    assert.equal(err.reason, 'upcaster-failed');
    assert.match(err.detail, /^ParcelShipped v1 → v2: TypeError: /);
    assert.doesNotMatch(err.detail, /DHL|p-1/);
  }
});
