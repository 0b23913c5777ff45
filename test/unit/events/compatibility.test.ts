// Invariant: a schema change that would break a reader of a published event version fails the
// check with a message naming the event, the field and the rule; additive changes pass.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { checkSnapshots } from '../../../events/check';
import { readSnapshots, writeSnapshots } from '../../../events/snapshots';
import { additive, baseline, breaking } from './fixtures/catalog';

function publishedBaseline() {
  const dir = mkdtempSync(join(tmpdir(), 'snapshots-'));
  writeSnapshots(dir, baseline);
  return readSnapshots(dir);
}

test('the published baseline is compatible with itself', () => {
  assert.deepEqual(checkSnapshots(baseline, publishedBaseline()), []);
});

test('additive changes (optional fields, a widened enum) pass', () => {
  assert.deepEqual(checkSnapshots(additive, publishedBaseline()), []);
});

test('a breaking change fails once per broken field, naming event, field and rule', () => {
  const messages = checkSnapshots(breaking, publishedBaseline()).map((p) => p.message);
  assert.deepEqual(messages.sort(), [
    'ParcelShipped v1: field "carrier": removed or renamed field (renamed to "shippingCompany"?); a change of meaning needs a new version',
    'ParcelShipped v1: field "cost.vatRate": new required field (events written before it lack it; add it as optional or publish a new version); a change of meaning needs a new version',
    'ParcelShipped v1: field "parcels[].label": required field made optional (readers rely on it being present); a change of meaning needs a new version',
    'ParcelShipped v1: field "speed": narrowed enum (no longer allows "overnight"); a change of meaning needs a new version',
    'ParcelShipped v1: field "weightGrams": changed type (was integer, now string); a change of meaning needs a new version',
  ]);
});

test('each breach carries its rule for tooling', () => {
  const rules = checkSnapshots(breaking, publishedBaseline()).map((p) => `${p.breach?.field}:${p.breach?.rule}`);
  assert.deepEqual(rules.sort(), [
    'carrier:removed-field',
    'cost.vatRate:new-required-field',
    'parcels[].label:made-optional',
    'speed:narrowed-enum',
    'weightGrams:changed-type',
  ]);
});

test('an unpublished version and a withdrawn one are both reported', () => {
  const snapshots = publishedBaseline();
  snapshots.delete('ParcelLost.v1');
  snapshots.set('ParcelFound.v1', { type: 'object' });
  const messages = checkSnapshots(baseline, snapshots).map((p) => p.message);
  assert.deepEqual(messages, [
    'ParcelLost v1: no snapshot in events/snapshots; publish it with npm run events:snapshot',
    'ParcelFound.v1: published, but gone from the catalog; stored events of it could no longer be read',
  ]);
});

test('making a nullable field non-null or null-only is a type change', () => {
  const snapshots = publishedBaseline();
  const changed = {
    ...baseline,
    ParcelLost: { context: 'shipping' as const, versions: { 1: z.object({ orderId: z.string(), reason: z.string() }) } },
  };
  assert.deepEqual(
    checkSnapshots(changed, snapshots).map((p) => p.message),
    ['ParcelLost v1: field "reason": changed type (was null|string, now string); a change of meaning needs a new version'],
  );
});
