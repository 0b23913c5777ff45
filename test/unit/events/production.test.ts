// Invariant: producers switch an event to a new version only in a release later than the one in
// which every declared consumer learned that version, so no reader that has not upgraded meets a
// version it cannot read; the check names the consumer, the event, the version and the releases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkEvents } from '../../../events/check';
import type { ConsumerContract } from '../../../events/consumer-contracts';
import { checkProduction, versionStatus } from '../../../events/production';
import { readSnapshots } from '../../../events/snapshots';
import { eventSources } from '../../../versioning/event-sources';
import { baseline } from './fixtures/catalog';

const tracking = (learned: Record<number, string>): ConsumerContract => ({
  consumer: 'tracking',
  reads: [{ type: 'ParcelShipped', version: 1, fields: { orderId: 'string' }, learned }],
});

const problems = (learned: Record<number, string>, switches: Record<number, string>, currentRelease: string, produced = 2) =>
  checkProduction({
    catalog: baseline,
    contracts: [tracking(learned)],
    produced: { ParcelShipped: produced },
    switches: { ParcelShipped: switches },
    currentRelease,
  });

test('switching production in the release that taught the consumer the version fails; a later release passes', () => {
  assert.deepEqual(problems({ 1: '1.0', 2: '1.1' }, { 2: '1.1' }, '1.1'), [
    'consumer tracking reads ParcelShipped: production switched to v2 in 1.1, not later than 1.1, the release in which it learned v2; switch in a later release',
  ]);
  assert.deepEqual(problems({ 1: '1.0', 2: '1.1' }, { 2: '1.0' }, '1.1').length, 1);
  assert.deepEqual(problems({ 1: '1.0', 2: '1.1' }, { 2: '1.2' }, '1.2'), []);
});

test('a consumer that never learned the produced version fails; one that began reading with it passes', () => {
  assert.deepEqual(problems({ 1: '1.0' }, { 2: '1.2' }, '1.2'), [
    'consumer tracking reads ParcelShipped but never learned v2, which producers write since 1.2',
  ]);
  assert.deepEqual(problems({ 1: '1.2', 2: '1.2' }, { 2: '1.2' }, '1.2'), []);
});

test('a switch without its release, or recorded for a release not yet built, fails', () => {
  assert.deepEqual(problems({ 1: '1.0', 2: '1.1' }, {}, '1.2'), [
    'ParcelShipped: producers write v2, but no release is recorded as switching production to it (productionSwitches in events/catalog)',
  ]);
  assert.deepEqual(problems({ 1: '1.0', 2: '1.1' }, { 2: '1.3' }, '1.2'), [
    'ParcelShipped: production switch to v2 recorded for 1.3, after this release 1.2',
  ]);
  assert.deepEqual(problems({ 1: '1.0' }, {}, '1.2', 1), []);
});

test('the domain catalog: ShipmentDispatched v2 may be switched on in 1.1 (learned in 1.0), not in the release a reader learned it', () => {
  const check = (switchedIn: string, currentRelease: string, contracts: readonly ConsumerContract[] = eventSources.contracts) =>
    checkEvents({
      catalog: eventSources.catalog,
      upcasters: eventSources.upcasters,
      contracts,
      snapshots: readSnapshots(eventSources.snapshotsDir),
      examples: [],
      produced: { ...eventSources.producedVersion, ShipmentDispatched: 2 },
      production: { switches: { ShipmentDispatched: { 2: switchedIn } }, currentRelease },
    })
      .filter((p) => p.kind === 'produced')
      .map((p) => p.message);
  assert.deepEqual(check('1.1', '1.1'), []);
  // An order view that learned v2 only in 1.2 (written against v1 until then).
  const lateReader = eventSources.contracts.map((c) => ({
    ...c,
    reads: c.reads.map((r) => (r.type === 'ShipmentDispatched' ? { ...r, learned: { 1: '1.0', 2: '1.2' } } : r)),
  }));
  assert.deepEqual(check('1.2', '1.2', lateReader), [
    'consumer order-view reads ShipmentDispatched: production switched to v2 in 1.2, not later than 1.2, the release in which it learned v2; switch in a later release',
  ]);
  assert.deepEqual(check('1.3', '1.3', lateReader), []);
});

test('where a version stands follows from what is produced and what production ever switched to', () => {
  const status = versionStatus({ ParcelShipped: 1 }, {});
  assert.deepEqual(
    [status('ParcelShipped', 1), status('ParcelShipped', 2), status('ParcelLost', 1)],
    ['produced', 'upcoming', 'produced'],
  );
  const switched = versionStatus({ ParcelShipped: 2 }, { ParcelShipped: { 2: '1.1' } });
  assert.deepEqual([switched('ParcelShipped', 1), switched('ParcelShipped', 2)], ['retired', 'produced']);
  const rolledBack = versionStatus({ ParcelShipped: 1 }, { ParcelShipped: { 2: '1.1' } });
  assert.equal(rolledBack('ParcelShipped', 2), 'retired');
});
