// Invariant: a schema change that would break a reader or a writer of a published event version
// fails the check with a message naming the event, the field and the rule; a change that breaks
// nobody (an additive optional field, or a change in the direction that is safe where the version
// stands: widening a retired version, narrowing an upcoming one) passes.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { checkSnapshots } from '../../../events/check';
import type { VersionStatus } from '../../../events/compatibility';
import type { EventCatalog } from '../../../events/definition';
import { wireSchema, type JsonSchema } from '../../../events/json-schema';
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

test('additive optional fields on tolerant objects pass', () => {
  assert.deepEqual(checkSnapshots(additive, publishedBaseline()), []);
});

test('a breaking change fails once per broken field, naming event, field, rule and whom it breaks', () => {
  const messages = checkSnapshots(breaking, publishedBaseline()).map((p) => p.message);
  assert.deepEqual(messages.sort(), [
    'ParcelShipped v1: field "carrier": removed or renamed field (renamed to "shippingCompany"?; breaks both); a change of meaning needs a new version',
    'ParcelShipped v1: field "cost.vatRate": new required field (events written before it lack it; add it as optional or publish a new version; breaks writers); a change of meaning needs a new version',
    'ParcelShipped v1: field "parcels[].label": required field made optional (readers rely on it being present; breaks readers); a change of meaning needs a new version',
    'ParcelShipped v1: field "speed": narrowed enum (no longer allows "overnight"; breaks writers); a change of meaning needs a new version',
    'ParcelShipped v1: field "weightGrams": changed type (was integer, now string; breaks both); a change of meaning needs a new version',
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
    [
      'ParcelLost v1: field "reason": changed type (was null|string, now string; breaks both); a change of meaning needs a new version',
    ],
  );
});

/** `field:rule` for every breach of `Parcel v1` edited from `before` to `after`, where the version stands at `status`. */
function verdict(before: z.ZodType, after: z.ZodType, status: VersionStatus = 'produced'): string[] {
  const published = new Map([['Parcel.v1', JSON.parse(JSON.stringify(wireSchema(z.object({ f: before })))) as JsonSchema]]);
  const catalog: EventCatalog = { Parcel: { context: 'shipping', versions: { 1: z.object({ f: after }) } } };
  return checkSnapshots(catalog, published, () => status).map((p) => `${p.breach?.field}:${p.breach?.rule}`);
}

/** The message of the one breach, to check it names the event, field and rule. */
function message(before: z.ZodType, after: z.ZodType): string {
  const published = new Map([['Parcel.v1', wireSchema(z.object({ f: before }))]]);
  const catalog: EventCatalog = { Parcel: { context: 'shipping', versions: { 1: z.object({ f: after }) } } };
  const [only, ...more] = checkSnapshots(catalog, published).map((p) => p.message);
  assert.equal(more.length, 0, `one breach expected, got ${[only, ...more].join(' | ')}`);
  return only ?? '';
}

const Speed = z.enum(['standard', 'express']);
const Currency = /^[A-Z]{3}$/;
const trim = (s: string) => s.trim();

test('widened-enum breaks readers: a new enum value fails where the version is written; on a retired version it passes', () => {
  const wider = z.enum(['standard', 'express', 'drone']);
  assert.deepEqual(verdict(Speed, wider), ['f:widened-enum']);
  assert.match(message(Speed, wider), /^Parcel v1: field "f": widened enum \(now allows "drone".*; breaks readers\)/);
  assert.deepEqual(verdict(Speed, wider, 'upcoming'), ['f:widened-enum']);
  assert.deepEqual(verdict(Speed, wider, 'retired'), []);
});

test('widened-enum: an enum made a plain string fails; on a retired version it passes', () => {
  assert.deepEqual(verdict(Speed, z.string()), ['f:widened-enum']);
  assert.match(message(Speed, z.string()), /widened enum \(was only "standard", "express", now any string/);
  assert.deepEqual(verdict(Speed, z.string(), 'retired'), []);
});

test('widened-enum: a literal made an enum fails; on a retired version it passes', () => {
  const kind = z.enum(['parcel', 'pallet']);
  assert.deepEqual(verdict(z.literal('parcel'), kind), ['f:widened-enum']);
  assert.deepEqual(verdict(z.literal('parcel'), kind, 'retired'), []);
});

test('narrowed-enum breaks writers: a value dropped fails where events of it exist; on an upcoming version it passes', () => {
  assert.deepEqual(verdict(Speed, z.enum(['standard'])), ['f:narrowed-enum']);
  assert.deepEqual(verdict(Speed, z.enum(['standard']), 'retired'), ['f:narrowed-enum']);
  assert.deepEqual(verdict(Speed, z.enum(['standard']), 'upcoming'), []);
});

test('narrowed-bound breaks writers: minimum raised, maximum lowered, nonnegative added fail; on an upcoming version they pass', () => {
  const amount = z.number().int();
  assert.deepEqual(verdict(amount.min(0), amount.min(1)), ['f:narrowed-bound']);
  assert.deepEqual(verdict(amount.max(100), amount.max(50)), ['f:narrowed-bound']);
  assert.deepEqual(verdict(amount, amount.nonnegative()), ['f:narrowed-bound']);
  assert.deepEqual(verdict(amount.nonnegative(), amount.positive()), ['f:narrowed-bound']);
  assert.match(
    message(amount, amount.nonnegative()),
    /field "f": narrowed bound \(was minimum -9007199254740991, now minimum 0; breaks writers\)/,
  );
  assert.deepEqual(verdict(amount, amount.nonnegative(), 'upcoming'), []);
  assert.deepEqual(verdict(amount.max(100), amount.max(50), 'upcoming'), []);
});

test('widened-bound breaks readers: nonnegative dropped or maximum raised fail; on a retired version they pass', () => {
  const amount = z.number().int();
  assert.deepEqual(verdict(amount.nonnegative(), amount), ['f:widened-bound']);
  assert.deepEqual(verdict(amount.max(50), amount.max(100)), ['f:widened-bound']);
  assert.deepEqual(verdict(amount.nonnegative(), amount, 'retired'), []);
  // The same bound written two ways is no change.
  assert.deepEqual(verdict(amount.positive(), amount.min(1)), []);
});

test('string lengths are bounds: minLength raised narrows, maxLength raised widens, each safe where the version stands', () => {
  assert.deepEqual(verdict(z.string().min(1), z.string().min(3)), ['f:narrowed-bound']);
  assert.deepEqual(verdict(z.string().max(8), z.string().max(16)), ['f:widened-bound']);
  assert.deepEqual(verdict(z.string().min(1), z.string().min(3), 'upcoming'), []);
  assert.deepEqual(verdict(z.string().max(8), z.string().max(16), 'retired'), []);
});

test('changed-pattern breaks both: the currency regex changed fails everywhere; the same regex with a message passes', () => {
  const looser = z.string().regex(/^[A-Z]{3,4}$/);
  assert.deepEqual(verdict(z.string().regex(Currency), looser), ['f:changed-pattern']);
  assert.deepEqual(verdict(z.string().regex(Currency), looser, 'retired'), ['f:changed-pattern']);
  assert.deepEqual(verdict(z.string().regex(Currency), z.string(), 'upcoming'), ['f:changed-pattern']);
  assert.deepEqual(verdict(z.string().regex(Currency), z.string().regex(Currency, 'an ISO 4217 code such as EUR')), []);
});

test('changed-format breaks both: a date-time that drops offset: true fails, saying which instants it refuses; a description passes', () => {
  const withOffset = z.iso.datetime({ offset: true });
  assert.deepEqual(verdict(withOffset, z.iso.datetime()), ['f:changed-format']);
  assert.match(
    message(withOffset, z.iso.datetime()),
    /changed format \(the date-time pattern changed: no longer accepts 2026-11-21T09:30:00\+02:00;/,
  );
  assert.deepEqual(verdict(withOffset, z.iso.datetime({ local: true }), 'retired'), ['f:changed-format']);
  assert.deepEqual(verdict(withOffset, z.iso.datetime({ offset: true }).describe('when the parcel left')), []);
});

test('item counts are bounds: minItems raised narrows, maxItems raised widens, each safe where the version stands', () => {
  const skus = z.array(z.string());
  assert.deepEqual(verdict(skus.min(1), skus.min(2)), ['f:narrowed-bound']);
  assert.deepEqual(verdict(skus.max(3), skus.max(5)), ['f:widened-bound']);
  assert.deepEqual(verdict(skus.min(1), skus.min(2), 'upcoming'), []);
  assert.deepEqual(verdict(skus.max(3), skus.max(5), 'retired'), []);
});

test('changed-tuple breaks both: a position added fails and a position retyped is a type change; a position narrowed on an upcoming version passes', () => {
  const dims = z.tuple([z.string(), z.number()]);
  assert.deepEqual(verdict(dims, z.tuple([z.string(), z.number(), z.number()])), ['f:changed-tuple']);
  assert.deepEqual(verdict(dims, z.tuple([z.string(), z.string()])), ['f[1]:changed-type']);
  assert.deepEqual(verdict(dims, z.tuple([z.string()], z.number())), ['f:changed-tuple']);
  assert.deepEqual(verdict(dims, z.tuple([z.string().min(1), z.number()])), ['f[0]:narrowed-bound']);
  assert.deepEqual(verdict(dims, z.tuple([z.string().min(1), z.number()]), 'upcoming'), []);
});

test('record values are compared like fields: a retyped value fails; an optional field added to the value passes', () => {
  assert.deepEqual(verdict(z.record(z.string(), z.number()), z.record(z.string(), z.string())), ['f{}:changed-type']);
  assert.deepEqual(verdict(z.record(z.string(), z.number().int()), z.record(z.string(), z.number().int().max(9))), [
    'f{}:narrowed-bound',
  ]);
  const line = z.object({ qty: z.number() });
  assert.deepEqual(verdict(z.record(z.string(), line), z.record(z.string(), line.extend({ note: z.string().optional() }))), []);
});

test('strict-object-field breaks readers: an optional field added to a strict object fails; to a tolerant one, or on a retired version, it passes', () => {
  const strict = z.strictObject({ sku: z.string() });
  const wider = z.strictObject({ sku: z.string(), note: z.string().optional() });
  assert.deepEqual(verdict(strict, wider), ['f.note:strict-object-field']);
  assert.deepEqual(verdict(strict, wider, 'retired'), []);
  assert.deepEqual(verdict(z.object({ sku: z.string() }), z.object({ sku: z.string(), note: z.string().optional() })), []);
  assert.deepEqual(verdict(z.object({ sku: z.string() }), strict), ['f:changed-strictness']);
});

test('changed-default breaks both: a new default changes what stored events without the field mean; the same default passes', () => {
  const speed = z.enum(['standard', 'express']);
  assert.deepEqual(verdict(speed.default('standard'), speed.default('express')), ['f:changed-default']);
  assert.deepEqual(verdict(speed.default('standard'), speed.default('express'), 'retired'), ['f:changed-default']);
  assert.deepEqual(verdict(speed.default('standard'), speed.default('standard').describe('delivery speed')), []);
});

test('output-only-change breaks both: a transform, pipe, coercion or refinement the wire schema cannot show fails; the same one again passes', () => {
  assert.deepEqual(verdict(z.string(), z.string().transform(trim)), ['f:output-only-change']);
  assert.deepEqual(
    verdict(
      z.string().transform(trim),
      z.string().transform((s) => s.toUpperCase()),
    ),
    ['f:output-only-change'],
  );
  assert.deepEqual(verdict(z.number(), z.coerce.number()), ['f:output-only-change']);
  assert.deepEqual(verdict(z.string(), z.string().pipe(z.string().max(3))), ['f:output-only-change']);
  assert.deepEqual(
    verdict(
      z.string(),
      z.string().refine((s) => s !== 'x'),
    ),
    ['f:output-only-change'],
  );
  assert.deepEqual(verdict(z.string(), z.string().trim(), 'upcoming'), ['f:output-only-change']);
  assert.match(
    message(z.string(), z.string().transform(trim)),
    /field "f": change invisible to the wire schema \(was none, now transform [0-9a-f]{12}/,
  );
  assert.deepEqual(verdict(z.string().transform(trim), z.string().transform(trim)), []);
});
